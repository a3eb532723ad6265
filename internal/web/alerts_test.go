package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// firingAlert stores a definition whose current certificate is inside
// its renewal window with nothing under way, evaluates the rules and
// returns the alert's ID.
func firingAlert(t *testing.T, s *site) int64 {
	t.Helper()
	ctx := context.Background()
	certID := putCert(t, s, "overdue.example.test", false)
	d := &inventory.Definition{Name: "overdue", Subject: inventory.Subject{CommonName: "overdue.example.test"},
		SANs: []string{"overdue.example.test"}, KeyType: "ecdsa-p256", Renewal: inventory.Renewal{DaysBefore: 95},
		CurrentCertificateID: certID}
	if err := s.stack.Store.PutDefinition(ctx, d); err != nil {
		t.Fatal(err)
	}
	res, err := s.stack.Alerts.Evaluate(ctx)
	if err != nil || res.Fired != 1 {
		t.Fatalf("Evaluate = %+v, %v; want one alert fired", res, err)
	}
	open, err := s.stack.Alerts.Open(ctx)
	if err != nil || len(open) != 1 {
		t.Fatalf("Open = %v, %v", open, err)
	}
	return open[0].ID
}

// TestAlertScreens: the dashboard shows open alerts; everyone lists and
// acknowledges; only admins silence and change rules.
func TestAlertScreens(t *testing.T) {
	s := newSite(t)
	id := firingAlert(t, s)
	alertPage := fmt.Sprintf("/alerts/%d", id)

	bob := s.signIn("bob")
	_, body := bob.get("/")
	mustContain(t, body, "Open alerts", "overdue", "renewal due since")
	_, body = bob.get("/alerts")
	mustContain(t, body, "renewal-overdue", "overdue", "warning")
	_, body = bob.get(alertPage)
	mustContain(t, body, "Acknowledge", "renewal due since")
	admLacks(t, body, "Silence")
	res, body := bob.post(alertPage+"/silence", url.Values{"reason": {"x"}, "until": {"3d"}})
	admStatus(t, res, body, http.StatusForbidden)
	res, body = bob.get("/alert-rules")
	admStatus(t, res, body, http.StatusForbidden)
	res, body = bob.post(alertPage+"/acknowledge", url.Values{"reason": {""}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "was not acknowledged", "reason")
	res, body = bob.post(alertPage+"/acknowledge", url.Values{"reason": {"renewal ordered"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Alert acknowledged.", "user:bob", "renewal ordered")
	_, body = bob.get("/alerts?tab=acknowledged")
	mustContain(t, body, "renewal-overdue")

	ada := s.signIn("ada")
	res, body = ada.post(alertPage+"/silence", url.Values{"reason": {"freeze"}, "until": {"someday"}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "was not silenced")
	res, body = ada.post(alertPage+"/silence", url.Values{"reason": {"change freeze"}, "until": {"3d"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Alert silenced until", "change freeze")

	_, body = ada.get("/alert-rules")
	mustContain(t, body, "leaf-expiry", "endpoint-unreachable", "warn fraction")
	res, body = ada.post("/alert-rules/renewal-overdue", url.Values{"severity": {"critical"}, "repeat": {"12h"}, "channels": {"ops"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Rule renewal-overdue saved.", "changed by user:ada")
	res, body = ada.post("/alert-rules/leaf-expiry", url.Values{"enabled": {"on"}, "warn_days": {"3"}, "critical_days": {"9"}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "was not changed")
	rules, err := s.stack.Alerts.Rules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if r.Name == "renewal-overdue" && (r.Enabled || r.Severity != "critical" || r.Repeat != 12*time.Hour) {
			t.Errorf("renewal-overdue after the form = %+v, want disabled (box unticked), critical, repeat 12h", r)
		}
	}
}
