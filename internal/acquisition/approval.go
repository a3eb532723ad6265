package acquisition

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// ErrForbidden matches (errors.Is) an approval or rejection the acting
// user may not make: they are not an admin, or they asked for the
// certificate themselves.
var ErrForbidden = errors.New("acquisition: forbidden")

// holdForApproval moves a to pending_approval: the CA found the request
// of by outside their issuance policy and asks an admin to decide.
func (s *Service) holdForApproval(ctx context.Context, by ca.Requester, a *inventory.Acquisition, pe *ca.PolicyError) (*Validation, error) {
	a.State = inventory.StatePendingApproval
	detail := fmt.Sprintf("outside the %s policy of CA %s (rule %s): %s; an admin's approval is needed",
		by.Role, pe.CA, pe.Rule, pe.Reason())
	if err := s.updateAudited(ctx, a, event{by.Name, "acquisition.approval_requested", detail}, s.step(by.Name, actionApprovalRequested, detail)); err != nil {
		return nil, err
	}
	return &Validation{Acquisition: a}, nil
}

// Step actions of the approval.
const (
	actionApprovalRequested = "approval_requested"
	actionApproved          = "approved"
	actionRejected          = "rejected"
)

// Approve has the CA issue the request of a process in pending_approval
// under the authority of by, an admin other than the requester: the
// CA's name policy, profiles and lints apply, the role policy the
// request fell outside of does not. The steps and the CA's audit event
// name both the requester and the approver.
func (s *Service) Approve(ctx context.Context, by ca.Requester, id int64) (*Validation, error) {
	p, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	requester, err := s.decider(p, by, "approved")
	if err != nil {
		return nil, err
	}
	r, err := s.caRequest(ctx, by, p)
	if err != nil {
		return nil, err
	}
	r.OnBehalfOf = requester
	issued, err := s.issuer.Issue(ctx, *r)
	if err != nil {
		return nil, fmt.Errorf("acquisition: process %d: %w", id, err)
	}
	approved := fmt.Sprintf("request of %s approved", requester)
	detail := fmt.Sprintf("%s, requested by %s, approved by %s", issuedDetail(issued, r), requester, by.Name)
	return s.registerIssued(ctx, by.Name, p, r, issued, []event{{by.Name, "acquisition.approve", approved}},
		s.step(by.Name, actionApproved, approved), s.step(by.Name, "issued", detail))
}

// Reject closes a process in pending_approval as cancelled, with the
// reason of by, an admin other than the requester.
func (s *Service) Reject(ctx context.Context, by ca.Requester, id int64, reason string) (*Process, error) {
	reason = strings.Join(strings.Fields(reason), " ")
	switch {
	case reason == "":
		return nil, inventory.Invalid("reason", "is empty; say why the request is rejected")
	case len(reason) > MaxReasonLength:
		return nil, inventory.Invalid("reason", "is %d characters; the limit is %d", len(reason), MaxReasonLength)
	}
	p, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	requester, err := s.decider(p, by, "rejected")
	if err != nil {
		return nil, err
	}
	a := &p.Acquisition
	a.State = inventory.StateCancelled
	detail := fmt.Sprintf("request of %s rejected: %s", requester, reason)
	if err := s.updateAudited(ctx, a, event{by.Name, "acquisition.reject", detail}, s.step(by.Name, actionRejected, detail)); err != nil {
		return nil, err
	}
	return s.process(ctx, a)
}

// decider checks that by may decide on p (pending_approval, by an admin
// who is not the requester) and returns the requester's name.
func (s *Service) decider(p *Process, by ca.Requester, verb string) (string, error) {
	a := &p.Acquisition
	if err := requireState(a, "processes in pending_approval can be "+verb, inventory.StatePendingApproval); err != nil {
		return "", err
	}
	if by.Role != inventory.RoleAdmin {
		return "", kindErrorf(ErrForbidden, "process %d: only an admin may approve or reject a request", a.ID)
	}
	requester := requesterOf(p.Steps)
	if requester == "" || requester == by.Name {
		return "", kindErrorf(ErrForbidden, "process %d: %s asked for this certificate and cannot approve or reject it; another admin must",
			a.ID, by.Name)
	}
	return requester, nil
}

// requesterOf is the actor of the latest approval request.
func requesterOf(steps []inventory.AcquisitionStep) string {
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].Action == actionApprovalRequested {
			return steps[i].Actor
		}
	}
	return ""
}
