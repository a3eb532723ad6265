package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestCAIssuancePolicyContract checks on every backend that a CA's
// issuance policy is stored and read back whole, and that a CA stored
// without one reads back nil (the default).
func TestCAIssuancePolicyContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s := openStore(t, b, b.fresh(t))
			testCAIssuancePolicy(t, s)
		})
	}
}

func testCAIssuancePolicy(t *testing.T, s inventory.Store) {
	ctx := context.Background()
	c, _ := newCA(t, s, "issuing", true)
	if got, err := s.GetCA(ctx, c.ID); err != nil || got.Issuance != nil {
		t.Fatalf("GetCA of a CA stored without issuance policy = %+v, %v; want Issuance nil", got, err)
	}
	want := inventory.IssuancePolicy{
		Admin: inventory.RolePolicy{Unrestricted: true},
		User: inventory.RolePolicy{Domains: []inventory.DomainRule{{Domain: "example.test", Subdomains: true, Wildcard: true}},
			IPRanges: []string{"10.0.0.0/8"}, MaxNames: 10, Profiles: []string{"tls-server"}, MaxDays: 397},
		OnViolation: inventory.ViolationApproval,
	}
	c.Issuance = &want
	if err := s.UpdateCA(ctx, c); err != nil {
		t.Fatalf("UpdateCA: %v", err)
	}
	for name, read := range map[string]func() (*inventory.CA, error){
		"GetCA":     func() (*inventory.CA, error) { return s.GetCA(ctx, c.ID) },
		"CAByName":  func() (*inventory.CA, error) { return s.CAByName(ctx, "issuing") },
		"DefaultCA": func() (*inventory.CA, error) { return s.DefaultCA(ctx) },
	} {
		got, err := read()
		if err != nil || got.Issuance == nil {
			t.Fatalf("%s = %+v, %v; want the issuance policy", name, got, err)
		}
		if diff := cmp.Diff(want, *got.Issuance); diff != "" {
			t.Errorf("%s issuance policy (-want +got):\n%s", name, diff)
		}
	}
	c.Issuance = nil
	if err := s.UpdateCA(ctx, c); err != nil {
		t.Fatalf("UpdateCA back to the default: %v", err)
	}
	list, err := s.ListCAs(ctx)
	if err != nil || len(list) != 1 || list[0].Issuance != nil {
		t.Fatalf("ListCAs = %+v, %v; want one CA with Issuance nil", list, err)
	}
	stored := &inventory.CA{Name: "with-policy", Status: inventory.CAActive, KeyID: c.KeyID, CertificateID: c.CertificateID,
		Issuance: &want, CreatedAt: time.Now()}
	if err := s.PutCA(ctx, stored); err != nil {
		t.Fatalf("PutCA with a policy: %v", err)
	}
	if got, err := s.GetCA(ctx, stored.ID); err != nil || got.Issuance == nil || got.Issuance.User.MaxNames != 10 {
		t.Fatalf("GetCA after PutCA with a policy = %+v, %v", got, err)
	}
}

// TestIssuanceMigrationKeepsAcquisitions checks that 0011 keeps the
// acquisitions and their steps (SQLite rebuilds both tables), that every
// CA reads back the default issuance policy, and that pending_approval is
// then a state a process can be stored in.
func TestIssuanceMigrationKeepsAcquisitions(t *testing.T) {
	onEmptyDatabases(t, testIssuanceMigration)
}

func testIssuanceMigration(t *testing.T, d *db) {
	ctx := context.Background()
	all := migrateBefore(t, d, 11)
	f := newOldAcqFixture(t, d)
	_, err := d.w.ExecContext(ctx, d.q(`INSERT INTO cas (name, status, key_id, policy, is_default, created_at)
		VALUES ('old', 'active', ?, '{}', ?, ?)`), f.key, true, d.t(d.now()))
	if err != nil {
		t.Fatalf("insert CA under 0010: %v", err)
	}
	a := putAcquisition(t, d, f.acquisition(inventory.StateCSRReady),
		inventory.AcquisitionStep{Actor: "alice", Action: "created", Detail: "renewal of shop"})
	if err := d.apply(ctx, all); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	got, err := d.CAByName(ctx, "old")
	if err != nil || got.Issuance != nil {
		t.Fatalf("CA after 0011 = %+v, %v; want Issuance nil (the default)", got, err)
	}
	kept, err := d.AcquisitionSteps(ctx, a.ID)
	if err != nil || len(kept) != 1 || kept[0].Action != "created" || kept[0].Actor != "alice" {
		t.Fatalf("steps after 0011 = %+v, %v; want the created step", kept, err)
	}
	a.State = inventory.StatePendingApproval
	if err := d.UpdateAcquisition(ctx, a, inventory.AcquisitionStep{Actor: "bob", Action: "approval_requested"}); err != nil {
		t.Fatalf("UpdateAcquisition to pending_approval: %v", err)
	}
	page, err := d.ListAcquisitions(ctx, inventory.AcquisitionFilter{States: []inventory.AcquisitionState{inventory.StatePendingApproval}},
		inventory.Page{Limit: 10})
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != a.ID {
		t.Fatalf("pending list = %+v, %v; want process %d", page, err, a.ID)
	}
	if err := d.PutAcquisition(ctx, f.acquisition(inventory.StateCSRReady)); err == nil {
		t.Error("a second open process beside a pending_approval one was stored")
	}
}
