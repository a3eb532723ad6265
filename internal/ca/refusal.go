package ca

import (
	"context"
	"errors"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// maxRefusalSummary bounds the reason kept in a refusal's audit event (a
// request may name thousands of names).
const maxRefusalSummary = 300

// auditRefusal records a request the issuance policy refused, so that an
// attempt to get a certificate outside the policy is in the audit trail
// whatever path it took. (An acquisition may then hold an Approvable
// request for an admin, which it records as well.) It returns err, joined
// with the failure to record it, if any.
func (a *Authority) auditRefusal(ctx context.Context, iss *issuer, r Request, err error) error {
	var pe *PolicyError
	if !errors.As(err, &pe) {
		return err
	}
	summary := fmt.Sprintf("%s for %s (%s) outside the policy, rule %s: %s", r.Profile, r.Requester.Name,
		r.Requester.Role, pe.Rule, pe.Reason())
	if len(summary) > maxRefusalSummary {
		summary = summary[:maxRefusalSummary] + "…"
	}
	e := &inventory.AuditEvent{Actor: first(r.Actor, r.Requester.Name, "unknown"), Action: "ca.refuse", Object: inventory.ObjectRef(inventory.KindCA, iss.ca.ID),
		Summary: summary}
	if aerr := a.st.AppendAudit(ctx, e); aerr != nil {
		return errors.Join(err, fmt.Errorf("ca: record the refusal: %w", aerr))
	}
	return err
}
