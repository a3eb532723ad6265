package acquisition

import (
	"errors"
	"testing"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// approvalFixture makes the default CA hold requests outside its policy
// for approval, with admins restricted to example.test so that an
// admin's own request can wait too.
func approvalFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, Config{})
	p := inventory.IssuancePolicy{OnViolation: inventory.ViolationApproval,
		Admin: inventory.RolePolicy{Domains: []inventory.DomainRule{{Domain: "example.test", Subdomains: true}}}}
	if _, err := f.auth.SetIssuancePolicy(t.Context(), "", p, actor); err != nil {
		t.Fatal(err)
	}
	return f
}

// pending starts and issues a process for name as by, which waits.
func (f *fixture) pending(t *testing.T, by ca.Requester, name string) *inventory.Acquisition {
	t.Helper()
	f.definition(t, name, name+".elsewhere.test")
	p, err := f.svc.Start(t.Context(), by.Name, StartOptions{Definition: name})
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.svc.Issue(t.Context(), by, p.ID)
	if err != nil || v.Acquisition.State != inventory.StatePendingApproval || v.Certificate != nil {
		t.Fatalf("Issue outside the policy = %+v, %v; want pending_approval", v, err)
	}
	return v.Acquisition
}

func TestApprovalByAnotherAdmin(t *testing.T) {
	f := approvalFixture(t)
	ctx := t.Context()
	alice, bob := ca.Admin("user:alice"), ca.Admin("user:bob")
	user := ca.Requester{Name: "user:carol", Role: inventory.RoleUser}
	a := f.pending(t, alice, "app")
	for _, tc := range []struct {
		name string
		by   ca.Requester
	}{{"the requester", alice}, {"a user", user}} {
		if _, err := f.svc.Approve(ctx, tc.by, a.ID); !errors.Is(err, ErrForbidden) {
			t.Errorf("Approve by %s = %v, want ErrForbidden", tc.name, err)
		}
		if _, err := f.svc.Reject(ctx, tc.by, a.ID, "no"); !errors.Is(err, ErrForbidden) {
			t.Errorf("Reject by %s = %v, want ErrForbidden", tc.name, err)
		}
	}
	v, err := f.svc.Approve(ctx, bob, a.ID)
	if err != nil || v.Acquisition.State != inventory.StateIssued || v.Certificate == nil {
		t.Fatalf("Approve by another admin = %+v, %v; want issued", v, err)
	}
	p, err := f.svc.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, s := range p.Steps {
		actions = append(actions, s.Actor+" "+s.Action)
	}
	want := []string{"user:alice approval_requested", "user:bob approved", "user:bob issued"}
	if len(actions) < 3 || !equalTail(actions, want) {
		t.Errorf("steps = %v; want them to end with %v", actions, want)
	}
	if _, err := f.svc.Approve(ctx, bob, a.ID); !errors.Is(err, inventory.ErrState) {
		t.Errorf("second Approve = %v, want ErrState", err)
	}
}

func TestRejectAndRefuseMode(t *testing.T) {
	f := approvalFixture(t)
	ctx := t.Context()
	a := f.pending(t, ca.Admin("user:alice"), "app")
	if _, err := f.svc.Reject(ctx, ca.Admin("user:bob"), a.ID, "  "); !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("Reject without a reason = %v, want a field error", err)
	}
	p, err := f.svc.Reject(ctx, ca.Admin("user:bob"), a.ID, "not ours")
	if err != nil || p.State != inventory.StateCancelled || p.Steps[len(p.Steps)-1].Action != "rejected" {
		t.Fatalf("Reject = %+v, %v; want cancelled by a rejected step", p, err)
	}
	pol := inventory.IssuancePolicy{Admin: inventory.RolePolicy{Domains: []inventory.DomainRule{{Domain: "example.test"}}}}
	if _, err := f.auth.SetIssuancePolicy(ctx, "", pol, actor); err != nil {
		t.Fatal(err)
	}
	f.definition(t, "shop", "shop.elsewhere.test")
	q, err := f.svc.Start(ctx, actor, StartOptions{Definition: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Issue(ctx, ca.Admin(actor), q.ID)
	var pe *ca.PolicyError
	if !errors.As(err, &pe) || pe.Rule != ca.RuleDNSDomain {
		t.Fatalf("Issue outside the policy in refuse mode = %v; want the CA's PolicyError", err)
	}
	if got, _ := f.svc.Get(ctx, q.ID); got.State != inventory.StateCSRReady {
		t.Errorf("refused process is %s, want csr_ready", got.State)
	}
}

func equalTail(got, want []string) bool {
	got = got[len(got)-len(want):]
	for i := range want {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}
