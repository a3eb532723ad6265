package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/acquisition"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestPolicyAndApprovalPages: an admin sets the user policy on the CA
// page; a user's issue outside it waits for approval; the user gets no
// Approve button and a 403, the admin approves from the acquisition page.
func TestPolicyAndApprovalPages(t *testing.T) {
	s := newSite(t)
	ctx := t.Context()
	ada, bob := s.signIn("ada"), s.signIn("bob")
	c, _, err := s.stack.Authority.EnsureDefault(ctx)
	if err != nil {
		t.Fatal(err)
	}
	caPath := "/ca/" + strconv.FormatInt(c.ID, 10)
	_, body := ada.get(caPath)
	wellFormed(t, body)
	mustContain(t, body, "Issuance policy", "user: nothing", "Save the policy")
	if _, body := bob.get(caPath); !contains(body, "Issuance policy") || contains(body, "Save the policy") {
		t.Errorf("a user's CA page should show the policy without its form:\n%s", body)
	}
	res, body := ada.post(caPath+"/policy", url.Values{"domains": {"allowed.test\n"}, "subdomains": {"on"}, "max_names": {"many"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !contains(body, "not a whole number") {
		t.Errorf("policy with max names %q: status %d, want 422 saying why:\n%s", "many", res.StatusCode, body)
	}
	res, body = ada.post(caPath+"/policy", url.Values{"domains": {"allowed.test\n"}, "subdomains": {"on"}, "on_violation": {"approval"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("save policy: %d\n%s", res.StatusCode, body)
	}
	mustContain(t, body, "Issuance policy saved.", "allowed.test and subdomains", "outside the policy: approval")

	d := &inventory.Definition{Name: "app", Subject: inventory.Subject{CommonName: "app.example.test"},
		SANs: []string{"app.example.test"}, Renewal: inventory.Renewal{DaysBefore: 30}}
	if err := s.stack.Definitions.Create(ctx, "user:bob", d); err != nil {
		t.Fatal(err)
	}
	p, err := s.stack.Acquisitions.Start(ctx, "user:bob", acquisition.StartOptions{Definition: "app"})
	if err != nil {
		t.Fatal(err)
	}
	acqPath := fmt.Sprintf("/acquisitions/%d", p.ID)
	_, body = bob.post(acqPath+"/issue", nil)
	mustContain(t, body, "waits for an admin", "pending_approval")
	if contains(body, "Approve and issue") {
		t.Error("the user's page shows the Approve button")
	}
	if res, _ := bob.post(acqPath+"/approve", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("approve by the user: %d, want 403", res.StatusCode)
	}
	_, body = ada.get("/")
	mustContain(t, body, `<a class="stat" href="/approvals"><span class="n">1</span><span class="l">waiting for approval</span>`)
	if _, body = bob.get("/"); contains(body, `href="/approvals"`) {
		t.Error("the user's dashboard links to the admins' approvals")
	}
	_, body = ada.get("/approvals")
	wellFormed(t, body)
	mustContain(t, body, "Requests waiting for approval", acqPath)
	_, body = ada.get(acqPath)
	wellFormed(t, body)
	mustContain(t, body, "Approve and issue", "Reject")
	_, body = ada.post(acqPath+"/approve", nil)
	mustContain(t, body, "Request approved.", "approved", "issued")
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
