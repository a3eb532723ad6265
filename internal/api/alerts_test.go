package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// overdueAlert stores a definition whose current certificate is inside
// its renewal window with nothing under way, evaluates the rules, and
// returns the alert that fired.
func (e *env) overdueAlert(t *testing.T) client.Alert {
	t.Helper()
	c, _ := selfSigned(t, "overdue.example.test", time.Now().Add(5*24*time.Hour))
	res, err := e.st.PutCertificates(ctx, []*inventory.Certificate{inventory.NewCertificate(c, "test")})
	if err != nil {
		t.Fatal(err)
	}
	d := &inventory.Definition{Name: "overdue", Subject: inventory.Subject{CommonName: "overdue.example.test"},
		SANs: []string{"overdue.example.test"}, KeyType: "ecdsa-p256", Renewal: inventory.Renewal{DaysBefore: 30},
		CurrentCertificateID: res[0].ID}
	if err := e.st.PutDefinition(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := e.stack.Alerts.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := e.user.ListAlerts(ctx, client.AlertQuery{State: "open"})
	if err != nil || len(l.Items) != 1 || l.Items[0].Rule != "renewal-overdue" || l.Items[0].State != "firing" {
		t.Fatalf("ListAlerts(open) = %+v, %v; want one firing renewal-overdue alert", l, err)
	}
	return l.Items[0]
}

// TestAlertsRoles: users read and acknowledge alerts; silencing and rule
// and routing changes answer 403 to a user's token and change nothing;
// an admin's are audited.
func TestAlertsRoles(t *testing.T) {
	e := newEnv(t, openSQLite)
	al := e.overdueAlert(t)
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	if _, err := e.user.SilenceAlert(ctx, al.ID, "quiet", until); err == nil {
		t.Fatal("SilenceAlert as a user succeeded")
	} else {
		wantProblem(t, err, http.StatusForbidden)
	}
	off := false
	_, err := e.user.UpdateAlertRule(ctx, "renewal-overdue", client.AlertRuleChange{Enabled: &off})
	wantProblem(t, err, http.StatusForbidden)
	_, err = e.user.SetAlertRoutes(ctx, client.AlertRoutes{Routes: map[string][]string{"prod": {"pager"}}})
	wantProblem(t, err, http.StatusForbidden)
	if got, err := e.user.GetAlert(ctx, al.ID); err != nil || got.State != "firing" || got.SilencedBy != "" {
		t.Fatalf("after refused changes GetAlert = %+v, %v; want firing, unsilenced", got, err)
	}
	rules, err := e.user.ListAlertRules(ctx)
	if err != nil || len(rules.Items) != 12 || !rules.Items[0].Enabled || rules.Items[0].Changed {
		t.Fatalf("ListAlertRules = %+v, %v; want the 12 default rules", rules, err)
	}

	_, err = e.user.AcknowledgeAlert(ctx, al.ID, "")
	wantProblem(t, err, http.StatusUnprocessableEntity)
	got, err := e.user.AcknowledgeAlert(ctx, al.ID, "renewal ordered")
	if err != nil || got.State != "acknowledged" || got.AckBy != "user:bob" || got.AckReason != "renewal ordered" {
		t.Fatalf("AcknowledgeAlert = %+v, %v", got, err)
	}
	got, err = e.admin.SilenceAlert(ctx, al.ID, "change freeze", until)
	if err != nil || got.State != "silenced" || !got.SilencedUntil.Equal(until) {
		t.Fatalf("SilenceAlert as admin = %+v, %v", got, err)
	}
	bad := 99
	_, err = e.admin.UpdateAlertRule(ctx, "leaf-expiry", client.AlertRuleChange{CriticalDays: &bad})
	wantProblem(t, err, http.StatusUnprocessableEntity)
	rule, err := e.admin.UpdateAlertRule(ctx, "renewal-overdue", client.AlertRuleChange{Enabled: &off})
	if err != nil || rule.Enabled || !rule.Changed || rule.UpdatedBy != "user:ada" {
		t.Fatalf("UpdateAlertRule as admin = %+v, %v", rule, err)
	}
	routes, err := e.admin.SetAlertRoutes(ctx, client.AlertRoutes{Routes: map[string][]string{"prod": {"pager"}}})
	if err != nil || len(routes.Routes["prod"]) != 1 {
		t.Fatalf("SetAlertRoutes as admin = %+v, %v", routes, err)
	}
	_, err = e.user.ListAlerts(ctx, client.AlertQuery{State: "sleeping"})
	wantProblem(t, err, http.StatusUnprocessableEntity)
	_, err = e.user.GetAlert(ctx, 999)
	wantProblem(t, err, http.StatusNotFound)

	events, err := e.admin.ListAudit(ctx, client.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, ev := range events.Items {
		seen[ev.Action] = ev.Actor
	}
	for action, who := range map[string]string{"alert.acknowledge": "user:bob", "alert.silence": "user:ada",
		"alert.rule": "user:ada", "alert.routes": "user:ada"} {
		if seen[action] != who {
			t.Errorf("audit %s by %q, want by %s", action, seen[action], who)
		}
	}
}
