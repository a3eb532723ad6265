package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/client"
)

// testAgents: admins make enrollment tokens (shown once, with the CA pin)
// and list agents; users may do neither; bad input is a 422 and unknown
// agents a 404.
func testAgents(t *testing.T, e *env) {
	if _, _, err := e.auth.EnsureDefault(ctx); err != nil {
		t.Fatal(err)
	}
	tok, err := e.admin.CreateAgentToken(ctx, client.AgentTokenInput{Name: "web1"})
	if err != nil {
		t.Fatalf("CreateAgentToken: %v", err)
	}
	if !strings.HasPrefix(tok.Token, "cka_") || !strings.HasPrefix(tok.CAPin, "sha256:") || tok.ExpiresAt.IsZero() {
		t.Errorf("token %+v: want cka_..., a sha256 pin and an expiry", tok)
	}
	list, err := e.admin.ListAgents(ctx)
	if err != nil || len(list.Items) != 0 {
		t.Errorf("ListAgents = %+v, %v; want none enrolled yet", list, err)
	}
	audit, err := e.admin.ListAudit(ctx, client.AuditQuery{Page: client.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range audit.Items {
		if strings.Contains(ev.Summary, tok.Token) {
			t.Errorf("audit event %+v holds the token", ev)
		}
	}
	if _, err := e.user.CreateAgentToken(ctx, client.AgentTokenInput{Name: "web2"}); client.StatusCode(err) != http.StatusForbidden {
		t.Errorf("user CreateAgentToken: %v, want 403", err)
	}
	if _, err := e.user.ListAgents(ctx); client.StatusCode(err) != http.StatusForbidden {
		t.Errorf("user ListAgents: %v, want 403", err)
	}
	if _, err := e.admin.CreateAgentToken(ctx, client.AgentTokenInput{Name: "bad name/"}); client.StatusCode(err) != http.StatusUnprocessableEntity {
		t.Errorf("CreateAgentToken(bad name): %v, want 422", err)
	}
	if _, err := e.admin.SetAgentDisabled(ctx, 9999, true); client.StatusCode(err) != http.StatusNotFound {
		t.Errorf("SetAgentDisabled(unknown): %v, want 404", err)
	}
}
