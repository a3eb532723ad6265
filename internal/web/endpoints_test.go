package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestEndpointScreens: an admin adds an endpoint served by a real TLS
// server on loopback, a user runs the checks and reads the list and the
// endpoint's page with its history and days-left chart; only admins add
// and remove.
func TestEndpointScreens(t *testing.T) {
	s := newSite(t)
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "https://")

	bob := s.signIn("bob")
	_, body := bob.get("/endpoints")
	mustContain(t, body, "Monitored endpoints", "No endpoint matches", `href="/endpoints"`)
	admLacks(t, body, "Monitor an endpoint")
	res, body := bob.post("/endpoints", url.Values{"address": {addr}})
	admStatus(t, res, body, http.StatusForbidden)

	ada := s.signIn("ada")
	res, body = ada.post("/endpoints", url.Values{"address": {"no-port"}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "The endpoint was not added", "HOST:PORT", `value="no-port"`)
	res, body = ada.post("/endpoints", url.Values{"address": {addr}, "interval": {"1h"}, "labels": {"web, edge"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, addr+" is monitored", "Not checked yet", "web, edge", "Remove")
	id := regexp.MustCompile(`/endpoints/(\d+)/run`).FindStringSubmatch(body)
	if id == nil {
		t.Fatalf("no Check now form on the endpoint's page:\n%s", body)
	}

	for range 2 {
		res, body = bob.post("/endpoints/run", nil)
		admStatus(t, res, body, http.StatusOK)
	}
	mustContain(t, body, "Checked 1 endpoint.", addr, "failed")
	_, body = bob.get("/endpoints?status=failed&q=127.0.0.1")
	mustContain(t, body, addr)
	_, body = bob.get("/endpoints?status=ok")
	mustContain(t, body, "No endpoint matches")
	_, body = bob.get("/endpoints/" + id[1])
	mustContain(t, body, "Latest result", "does not verify", "<svg", "polyline", "Days left over 2 observations", "History")
	admLacks(t, body, "Remove")
	res, body = bob.post("/endpoints/"+id[1]+"/remove", nil)
	admStatus(t, res, body, http.StatusForbidden)

	res, body = ada.post("/endpoints/"+id[1]+"/remove", nil)
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "is no longer monitored", "No endpoint matches")
}

// TestMonitoringSettings: the settings page shows and saves the
// monitoring settings; a bad value is refused with its field and
// changes nothing.
func TestMonitoringSettings(t *testing.T) {
	s := newSite(t)
	ada := s.signIn("ada")
	_, body := ada.get("/settings")
	mustContain(t, body, "Monitoring", `value="06:00"`, `value="90"`, `value="50"`)
	res, body := ada.post("/settings", url.Values{"monitor_time": {"21:15"}, "monitor_retention_days": {"30"},
		"monitor_concurrency": {"5"}, "smtp_security": {"starttls"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Settings saved.", `value="21:15"`, `value="30"`, `value="5"`)
	for field, v := range map[string]string{"monitor_time": "9pm", "monitor_retention_days": "many", "monitor_concurrency": "-3"} {
		form := url.Values{"monitor_time": {"21:15"}, "monitor_retention_days": {"30"}, "monitor_concurrency": {"5"},
			"smtp_security": {"starttls"}}
		form.Set(field, v)
		res, body = ada.post("/settings", form)
		admStatus(t, res, body, http.StatusUnprocessableEntity)
		mustContain(t, body, `value="`+v+`"`, "field-error")
	}
	got, err := s.stack.Settings.Get(t.Context())
	if err != nil || got.Monitoring.TimeOfDay != "21:15" || got.Monitoring.RetentionDays != 30 || got.Monitoring.Concurrency != 5 {
		t.Errorf("settings after refused updates = %+v, %v; want 21:15, 30, 5", got.Monitoring, err)
	}
}
