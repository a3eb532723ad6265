package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/agent"
)

// enrollAgent enrolls an agent called name directly through the site's
// registry, with a token made there, and returns the SHA-256 of its
// certificate.
func (s *site) enrollAgent(name, remoteAddr string) string {
	s.t.Helper()
	tok, err := s.stack.Agents.CreateToken(context.Background(), "test", name, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.enrollWith(tok.Token, name, remoteAddr)
}

// enrollWith enrolls the agent called name with token through the
// registry, as `certkeeper agent enroll` does over the endpoint, and
// returns the SHA-256 of its certificate.
func (s *site) enrollWith(token, name, remoteAddr string) string {
	s.t.Helper()
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		s.t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name}}, key)
	if err != nil {
		s.t.Fatal(err)
	}
	csr := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	if _, err := s.stack.Agents.Enroll(ctx, agent.EnrollRequest{Token: token, Name: name, CSR: string(csr)}, remoteAddr); err != nil {
		s.t.Fatal(err)
	}
	list, err := s.stack.Agents.List(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, a := range list {
		if a.Name == name {
			return a.CertificateSHA256
		}
	}
	s.t.Fatalf("agent %s is not listed after enrolling", name)
	return ""
}

func TestAgentsEmptyAndRoles(t *testing.T) {
	s := newSite(t)
	ada, bob := s.signInOwn("ada"), s.signInOwn("bob")
	body := ada.page("/agents", 200, `<h1>Agents</h1>`, `<p class="empty">No agent is enrolled yet.`,
		`action="/agents/tokens"`, `name="name"`, `name="hours" inputmode="numeric" value="24"`,
		`<a href="/agents" aria-current="page">Agents</a>`)
	if strings.Contains(body, "<table") {
		t.Fatalf("the empty agents page has a table:\n%s", body)
	}
	ada.page("/", 200, `<a href="/agents">Agents</a>`)

	// A user has no Agents link, no page and no token.
	body = bob.page("/", 200, "Dashboard")
	admLacks(t, body, `href="/agents"`)
	bob.page("/agents", 403, "This page needs the admin role.")
	res, body := bob.post("/agents/tokens", url.Values{"name": {"web1"}, "hours": {"24"}})
	wantStatus(t, "bob's token", res, body, http.StatusForbidden)
	admLacks(t, body, "cka_")
	res, body = bob.post("/agents/1/disable", nil)
	wantStatus(t, "bob's disable", res, body, http.StatusForbidden)
	ada.page("/agents", 200, "No agent is enrolled yet.")
	if list, err := s.stack.Agents.List(context.Background()); err != nil || len(list) != 0 {
		t.Fatalf("agents after bob's tries: %v, %v", list, err)
	}
}

func TestAgentsToken(t *testing.T) {
	s := newSite(t)
	ada := s.signInOwn("ada")

	// A bad name is refused next to the field, with what was typed kept.
	res, body := ada.post("/agents/tokens", url.Values{"name": {"web 1!"}, "hours": {"48"}})
	wantStatus(t, "bad name", res, body, http.StatusUnprocessableEntity)
	wellFormed(t, body)
	mustContain(t, body, `class="alert"`, "No token was made", `id="e-a-name"`, `aria-invalid="true"`,
		`value="web 1!"`, `value="48"`)
	admLacks(t, body, "cka_", `id="agent-token"`)
	// A bad lifetime too: not a number, and beyond the API's 30 days.
	for _, hours := range []string{"soon", "0", "721"} {
		res, body = ada.post("/agents/tokens", url.Values{"name": {"web1"}, "hours": {hours}})
		wantStatus(t, "lifetime "+hours, res, body, http.StatusUnprocessableEntity)
		wellFormed(t, body)
		mustContain(t, body, `id="e-a-hours"`, `value="`+hours+`"`, `value="web1"`)
		admLacks(t, body, "cka_")
	}

	// The token, the pin and the command, on the answer only.
	res, body = ada.post("/agents/tokens", url.Values{"name": {"web1"}, "hours": {"12"}})
	wantStatus(t, "token", res, body, http.StatusOK)
	wellFormed(t, body)
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("token page Cache-Control %q, want no-store", cc)
	}
	token := regexp.MustCompile(`cka_[A-Za-z0-9_-]{43}`).FindString(body)
	pin := regexp.MustCompile(`sha256:[0-9a-f]{64}`).FindString(body)
	if token == "" || pin == "" {
		t.Fatalf("no token or pin on the page:\n%s", body)
	}
	pinWant, err := s.stack.Agents.Pin(context.Background())
	if err != nil || pin != pinWant {
		t.Fatalf("pin shown %s, want %s (%v)", pin, pinWant, err)
	}
	mustContain(t, body, "Enrollment token for web1", "Shown this once", `id="agent-token"`, `id="agent-pin"`,
		`data-copy="agent-command"`, "--agent-listen", "8444 by default",
		"certkeeper agent enroll --server https://127.0.0.1:8444 --token "+token+" --ca-pin "+pin+" --name web1")
	// The form is empty again.
	mustContain(t, body, `id="a-name" name="name" value=""`, `name="hours" inputmode="numeric" value="24"`)
	if strings.Contains(res.Request.URL.String(), token) {
		t.Fatalf("the token is in the URL %s", res.Request.URL)
	}
	for _, c := range res.Cookies() {
		if strings.Contains(c.Value, token) || c.Name == "certkeeper_flash" && c.MaxAge >= 0 {
			t.Fatalf("the token answer sets cookie %s=%s", c.Name, c.Value)
		}
	}

	// Shown once: not on the list, nor in the audit log, which records
	// the creation.
	body = ada.page("/agents", 200, "No agent is enrolled yet.")
	admLacks(t, body, token, pin, `id="agent-token"`)
	body = ada.page("/audit", 200, "agent.token_create", "web1")
	admLacks(t, body, token)

	// The token shown enrolls the agent it was made for; the list then
	// shows the agent, still without the token.
	sum := s.enrollWith(token, "web1", "192.0.2.1:40000")
	body = ada.page("/agents", 200, "<td>web1</td>", `title="`+sum+`"`)
	admLacks(t, body, token, "No agent is enrolled yet")
}

func TestAgentsDisableEnable(t *testing.T) {
	s := newSite(t)
	sum := s.enrollAgent("web1", "192.0.2.7:51234")
	ada := s.signInOwn("ada")
	body := ada.page("/agents", 200, "<td>web1</td>", "192.0.2.7:51234", "not yet", `title="`+sum+`"`,
		">"+sum[:16]+"…<", `badge ok">enabled`, `action="/agents/`, `/disable"`, `data-confirm="Disable agent web1?`)
	admLacks(t, body, "No agent is enrolled yet", `/enable"`)
	id := regexp.MustCompile(`action="/agents/(\d+)/disable"`).FindStringSubmatch(body)[1]

	_, body = ada.submit("/agents/"+id+"/disable", nil, "/agents")
	mustContain(t, body, `class="flash"`, "Agent web1 disabled", `badge bad">disabled`, `action="/agents/`+id+`/enable"`)
	admLacks(t, body, `/disable"`)
	if list, err := s.stack.Agents.List(context.Background()); err != nil || len(list) != 1 || !list[0].Disabled {
		t.Fatalf("after disable: %+v, %v", list, err)
	}
	_, body = ada.submit("/agents/"+id+"/enable", nil, "/agents")
	mustContain(t, body, "Agent web1 enabled", `badge ok">enabled`, `action="/agents/`+id+`/disable"`)
	ada.page("/audit", 200, "agent.disable", "agent.enable", "agent.enroll")

	// An unknown agent is a 404 page.
	res, body := ada.post("/agents/999/disable", nil)
	wantStatus(t, "unknown agent", res, body, http.StatusNotFound)
	res, body = ada.post("/agents/abc/enable", nil)
	wantStatus(t, "bad agent number", res, body, http.StatusNotFound)

	// bob cannot disable it.
	bob := s.signInOwn("bob")
	res, body = bob.post("/agents/"+id+"/disable", nil)
	wantStatus(t, "bob's disable", res, body, http.StatusForbidden)
	if list, err := s.stack.Agents.List(context.Background()); err != nil || len(list) != 1 || list[0].Disabled {
		t.Fatalf("after bob's disable: %+v, %v", list, err)
	}
}
