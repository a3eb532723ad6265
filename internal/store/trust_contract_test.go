package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestTrustStoreContract runs the inventory.TrustStore contract against
// every backend.
func TestTrustStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range []struct {
				name string
				run  func(t *testing.T, e *env)
			}{
				{"Roots", testTrustRoots},
				{"RootErrors", testTrustRootErrors},
				{"SystemRoots", testTrustSystemRoots},
			} {
				t.Run(tc.name, func(t *testing.T) {
					loc := b.fresh(t)
					tc.run(t, &env{b: b, loc: loc, s: openStore(t, b, loc)})
				})
			}
		})
	}
}

func testTrustRoots(t *testing.T, e *env) {
	ctx := context.Background()
	h := newHierarchy(t, "Trust")
	other := newHierarchy(t, "Other")
	ids := putCerts(t, e.s, record(h.root), record(h.inter), record(other.root))
	if got, err := e.s.ListTrustRoots(ctx); err != nil || len(got) != 0 {
		t.Fatalf("ListTrustRoots on a fresh store = %v, %v; want none", got, err)
	}
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, r := range []inventory.PutResult{ids[2], ids[0]} {
		audit := &inventory.AuditEvent{Actor: "user:alice", Action: "trust.add", Object: "certificate:1"}
		if err := e.s.AddTrustRoot(ctx, r.ID, "user:alice", at, audit); err != nil {
			t.Fatalf("AddTrustRoot(%d): %v", r.ID, err)
		}
		if audit.ID == 0 {
			t.Errorf("AddTrustRoot(%d) left the audit event unstored", r.ID)
		}
	}
	got, err := e.s.ListTrustRoots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Certificate.ID >= got[1].Certificate.ID {
		t.Fatalf("ListTrustRoots = %d roots, want 2 in ID order", len(got))
	}
	r := got[0]
	if r.Certificate.ID != ids[0].ID {
		r = got[1]
	}
	if r.AddedBy != "user:alice" || !r.AddedAt.Equal(at) || string(r.Certificate.DER) != string(h.root.cert.Raw) || !r.Certificate.SelfSigned {
		t.Errorf("ListTrustRoots[0] = by %q at %v (DER equal %t, self-signed %t), want by user:alice at %v with the root",
			r.AddedBy, r.AddedAt, string(r.Certificate.DER) == string(h.root.cert.Raw), r.Certificate.SelfSigned, at)
	}
	if err := e.s.RemoveTrustRoot(ctx, ids[0].ID, &inventory.AuditEvent{Actor: "user:alice", Action: "trust.remove"}); err != nil {
		t.Fatalf("RemoveTrustRoot: %v", err)
	}
	if got, err := e.s.ListTrustRoots(ctx); err != nil || len(got) != 1 || got[0].Certificate.ID != ids[2].ID {
		t.Errorf("ListTrustRoots after remove = %+v, %v; want only certificate %d", got, err, ids[2].ID)
	}
	events := listAllAudit(t, e.s, time.Time{})
	if len(events) != 3 {
		t.Errorf("audit events = %d, want 3 (two adds, one remove)", len(events))
	}
}

func testTrustRootErrors(t *testing.T, e *env) {
	ctx := context.Background()
	h := newHierarchy(t, "Trust")
	ids := putCerts(t, e.s, record(h.root))
	audit := func() *inventory.AuditEvent { return &inventory.AuditEvent{Actor: "user:alice", Action: "trust.add"} }
	if err := e.s.AddTrustRoot(ctx, 9999, "user:alice", time.Time{}, audit()); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("AddTrustRoot(unknown) = %v, want ErrNotFound", err)
	}
	if err := e.s.AddTrustRoot(ctx, ids[0].ID, "user:alice", time.Time{}, audit()); err != nil {
		t.Fatal(err)
	}
	if err := e.s.AddTrustRoot(ctx, ids[0].ID, "user:bob", time.Time{}, audit()); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("AddTrustRoot(twice) = %v, want ErrConflict", err)
	}
	if err := e.s.RemoveTrustRoot(ctx, 9999, audit()); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("RemoveTrustRoot(not marked) = %v, want ErrNotFound", err)
	}
	if got := listAllAudit(t, e.s, time.Time{}); len(got) != 1 {
		t.Errorf("audit events = %d, want 1: a refused change appends none", len(got))
	}
	got, err := e.s.ListTrustRoots(ctx)
	if err != nil || len(got) != 1 || got[0].AddedBy != "user:alice" || got[0].AddedAt.IsZero() {
		t.Errorf("ListTrustRoots = %+v, %v; want alice's mark with a time", got, err)
	}
}

func testTrustSystemRoots(t *testing.T, e *env) {
	ctx := context.Background()
	if on, err := e.s.TrustSystemRoots(ctx); err != nil || !on {
		t.Errorf("TrustSystemRoots on a fresh store = %t, %v; want true", on, err)
	}
	for _, want := range []bool{false, true, false} {
		if err := e.s.SetTrustSystemRoots(ctx, want, &inventory.AuditEvent{Actor: "user:alice", Action: "trust.system_roots"}); err != nil {
			t.Fatal(err)
		}
		if on, err := e.s.TrustSystemRoots(ctx); err != nil || on != want {
			t.Errorf("TrustSystemRoots after setting %t = %t, %v", want, on, err)
		}
	}
	if got := listAllAudit(t, e.s, time.Time{}); len(got) != 3 {
		t.Errorf("audit events = %d, want 3", len(got))
	}
}
