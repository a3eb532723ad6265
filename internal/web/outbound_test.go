package web_test

import (
	"net/http"
	"net/url"
	"testing"
)

func TestAdminOutboundPolicy(t *testing.T) {
	s := newSite(t)
	b := s.signIn("ada")
	res, body := b.get("/settings/outbound")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Outbound policy", "169.254.0.0/16", "fd00:ec2::254")

	res, body = b.post("/settings/outbound", url.Values{"allow": {"10.0.0.0/8:443\n10.0.0.0/8:99999"}, "deny": {""}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "99999", `id="allow-error"`)

	res, body = b.post("/settings/outbound", url.Values{"allow": {"# internal\n10.0.0.0/8:443,8443\n"}, "deny": {"10.9.0.0/16"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Outbound policy saved", "10.0.0.0/8:443,8443", "10.9.0.0/16")
	res, body = b.get("/audit")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "outbound.update")

	bob := s.signIn("bob")
	res, body = bob.get("/settings/outbound")
	admStatus(t, res, body, http.StatusForbidden)
	res, body = bob.post("/settings/outbound", url.Values{"allow": {"10.0.0.0/8"}})
	admStatus(t, res, body, http.StatusForbidden)
}
