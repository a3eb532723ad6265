package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestAlertStoreContract runs the inventory.AlertStore contract against
// every backend.
func TestAlertStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range []struct {
				name string
				run  func(t *testing.T, e *env)
			}{
				{"Rules", testAlertRules},
				{"Lifecycle", testAlertLifecycle},
				{"List", testAlertList},
			} {
				t.Run(tc.name, func(t *testing.T) {
					loc := b.fresh(t)
					tc.run(t, &env{b: b, loc: loc, s: openStore(t, b, loc)})
				})
			}
		})
	}
}

func testAlertRules(t *testing.T, e *env) {
	ctx := context.Background()
	if got, err := e.s.ListAlertRules(ctx); err != nil || len(got) != 0 {
		t.Fatalf("ListAlertRules on a fresh store = %v, %v; want none", got, err)
	}
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	r := inventory.AlertRule{Name: "leaf-expiry", Enabled: true, WarnDays: 20, CriticalDays: 5, WarnFraction: 0.25,
		CriticalFraction: 0.05, Repeat: 12 * time.Hour, Channels: []string{"ops", "pager"}, UpdatedBy: "user:ada", UpdatedAt: at}
	audit := &inventory.AuditEvent{Actor: "user:ada", Action: "alert.rule", Object: "alert-rule:leaf-expiry"}
	if err := e.s.PutAlertRule(ctx, &r, audit); err != nil || audit.ID == 0 {
		t.Fatalf("PutAlertRule = %v (audit ID %d); want stored with its audit event", err, audit.ID)
	}
	r.Enabled, r.Channels, r.Threshold = false, nil, 4
	if err := e.s.PutAlertRule(ctx, &r, nil); err != nil {
		t.Fatalf("PutAlertRule again: %v", err)
	}
	got, err := e.s.ListAlertRules(ctx)
	if err != nil || len(got) != 1 {
		t.Fatalf("ListAlertRules = %v, %v; want one rule", got, err)
	}
	g := got[0]
	if g.Enabled || g.Threshold != 4 || g.WarnDays != 20 || g.WarnFraction != 0.25 || g.Repeat != 12*time.Hour ||
		len(g.Channels) != 0 || !g.UpdatedAt.Equal(at) || g.UpdatedBy != "user:ada" {
		t.Errorf("ListAlertRules[0] = %+v, want the second write of %+v", g, r)
	}
}

func newAlert(rule, subject string, at time.Time) *inventory.Alert {
	return &inventory.Alert{Rule: rule, Subject: subject, SubjectName: "www.example.com:443",
		Severity: inventory.SeverityWarning, State: inventory.AlertFiring, Summary: "expires in 20 days",
		FiredAt: at, LastNotifiedAt: at, Notifications: 1}
}

func testAlertLifecycle(t *testing.T, e *env) {
	ctx := context.Background()
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	a := newAlert("leaf-expiry", "endpoint:1", at)
	if err := e.s.PutAlert(ctx, a); err != nil || a.ID == 0 {
		t.Fatalf("PutAlert = %v, ID %d", err, a.ID)
	}
	if err := e.s.PutAlert(ctx, newAlert("leaf-expiry", "endpoint:1", at)); !errors.Is(err, inventory.ErrConflict) {
		t.Fatalf("second open alert for one rule and subject: err = %v, want ErrConflict", err)
	}
	a.State, a.AckBy, a.AckAt, a.AckReason = inventory.AlertAcknowledged, "user:bo", at.Add(time.Hour), "on it"
	audit := &inventory.AuditEvent{Actor: "user:bo", Action: "alert.acknowledge", Object: inventory.ObjectRef(inventory.KindAlert, a.ID)}
	if err := e.s.UpdateAlert(ctx, a, audit); err != nil || audit.ID == 0 {
		t.Fatalf("UpdateAlert = %v (audit ID %d)", err, audit.ID)
	}
	got, err := e.s.GetAlert(ctx, a.ID)
	if err != nil || got.State != inventory.AlertAcknowledged || got.AckBy != "user:bo" || !got.AckAt.Equal(a.AckAt) ||
		!got.FiredAt.Equal(at) || !got.LastNotifiedAt.Equal(at) || !got.ResolvedAt.IsZero() || !got.SilencedUntil.IsZero() {
		t.Fatalf("GetAlert = %+v, %v; want %+v", got, err, a)
	}
	a.State, a.ResolvedAt = inventory.AlertResolved, at.Add(2*time.Hour)
	if err := e.s.UpdateAlert(ctx, a, nil); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if open, err := e.s.OpenAlerts(ctx); err != nil || len(open) != 0 {
		t.Fatalf("OpenAlerts after resolve = %v, %v; want none", open, err)
	}
	again := newAlert("leaf-expiry", "endpoint:1", at.Add(3*time.Hour))
	if err := e.s.PutAlert(ctx, again); err != nil {
		t.Fatalf("PutAlert after the first resolved: %v", err)
	}
	if _, err := e.s.GetAlert(ctx, 9999); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("GetAlert(unknown) err = %v, want ErrNotFound", err)
	}
	if err := e.s.UpdateAlert(ctx, &inventory.Alert{ID: 9999, FiredAt: at}, nil); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("UpdateAlert(unknown) err = %v, want ErrNotFound", err)
	}
}

func testAlertList(t *testing.T, e *env) {
	ctx := context.Background()
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	for i, rule := range []string{"leaf-expiry", "revoked", "leaf-expiry", "untrusted", "leaf-expiry"} {
		a := newAlert(rule, inventory.ObjectRef("endpoint", int64(i)), at)
		if i == 1 {
			a.State = inventory.AlertSilenced
		}
		if err := e.s.PutAlert(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	page := inventory.Page{Limit: 2}
	for {
		l, next, err := e.s.ListAlerts(ctx, inventory.AlertFilter{}, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range l {
			ids = append(ids, a.ID)
		}
		if next == "" {
			break
		}
		page.After = next
	}
	if len(ids) != 5 || ids[0] < ids[4] {
		t.Errorf("ListAlerts by pages of 2 = IDs %v, want 5 newest first", ids)
	}
	l, _, err := e.s.ListAlerts(ctx, inventory.AlertFilter{States: []inventory.AlertState{inventory.AlertSilenced}}, inventory.Page{})
	if err != nil || len(l) != 1 || l[0].Rule != "revoked" {
		t.Errorf("ListAlerts(silenced) = %+v, %v; want the revoked alert", l, err)
	}
	counts, err := e.s.CountAlertsByRule(ctx, inventory.AlertFiring)
	if err != nil || len(counts) != 2 || counts["leaf-expiry"] != 3 || counts["untrusted"] != 1 {
		t.Errorf("CountAlertsByRule(firing) = %v, %v; want leaf-expiry 3, untrusted 1", counts, err)
	}
	if _, _, err := e.s.ListAlerts(ctx, inventory.AlertFilter{}, inventory.Page{After: "!!"}); !errors.Is(err, inventory.ErrBadCursor) {
		t.Errorf("ListAlerts(bad cursor) err = %v, want ErrBadCursor", err)
	}
}
