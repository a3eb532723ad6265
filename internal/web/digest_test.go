package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestDigestPage: an admin sees the digest as it would be sent and asks
// for a send, told why nothing went out (no admin e-mail); a user is
// refused both.
func TestDigestPage(t *testing.T) {
	s := newSite(t)
	bob := s.signIn("bob")
	if res, _ := bob.get("/digest"); res.StatusCode != http.StatusForbidden {
		t.Errorf("GET /digest as a user: %d, want 403", res.StatusCode)
	}
	if res, _ := bob.post("/digest/send", url.Values{"csrf": {bob.csrf()}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("send as a user: %d, want 403", res.StatusCode)
	}
	ada := s.signIn("ada")
	res, body := ada.get("/digest")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /digest as an admin: %d\n%s", res.StatusCode, body)
	}
	mustContain(t, body, "Daily digest", "certkeeper digest ", "Needs action", "What changed", "Send now")
	res, body = ada.post("/digest/send", url.Values{"csrf": {ada.csrf()}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("send as an admin: %d\n%s", res.StatusCode, body)
	}
	mustContain(t, body, "Digest not sent: no recipient")
	events, _, err := s.stack.Store.ListAudit(context.Background(), time.Time{}, inventory.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var sends int
	for _, e := range events {
		if e.Action == "digest.send" {
			sends++
		}
	}
	if sends != 1 {
		t.Errorf("%d digest.send events, want 1 (the admin's)", sends)
	}
}
