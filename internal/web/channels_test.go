package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/certkeeper/certkeeper/internal/notify"
)

// TestAdminChannels adds a signed webhook channel from the form, tests it
// against a real receiver, sees the record and removes it; a user is
// refused every page and action.
func TestAdminChannels(t *testing.T) {
	s := newSite(t)
	const secret = "web-hook-secret-314"
	var mu sync.Mutex
	var sigs, bodies []string
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		sigs, bodies = append(sigs, r.Header.Get(notify.SignatureHeader)), append(bodies, string(b))
		mu.Unlock()
	}))
	defer rx.Close()

	b := s.signIn("ada")
	res, body := b.get("/settings/channels")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "No notification channel yet.", "Add channel", "pagerduty")
	res, body = b.post("/settings/channels", url.Values{"name": {"ops"}, "format": {"generic"}, "url": {"ftp://x"}, "secret": {secret}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, `id="url-error"`, "must start with https://")
	admLacks(t, body, secret)
	res, body = b.post("/settings/channels", url.Values{"name": {"ops"}, "format": {"generic"}, "url": {rx.URL + "/hook?k=v"}, "secret": {secret}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Channel ops added", rx.URL+"/…", "set")
	admLacks(t, body, secret, "/hook?k=v")
	res, body = b.post("/settings/channels/ops/test", nil)
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Test notification sent on ops (HTTP 200).")
	mu.Lock()
	if len(sigs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(sigs))
	}
	if _, ok := notify.Verify([]byte(secret), sigs[0], []byte(bodies[0])); !ok {
		t.Error("the test notification's signature does not verify")
	}
	mu.Unlock()
	res, body = b.get("/settings/notifications")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Sent notifications", "ops", "certkeeper test notification", "sent")

	bob := s.signIn("bob")
	for _, path := range []string{"/settings/channels", "/settings/notifications"} {
		res, body := bob.get(path)
		admStatus(t, res, body, http.StatusForbidden)
	}
	for _, path := range []string{"/settings/channels", "/settings/channels/ops/test", "/settings/channels/ops/remove"} {
		res, body := bob.post(path, url.Values{"name": {"mine"}, "url": {rx.URL}})
		admStatus(t, res, body, http.StatusForbidden)
	}
	mu.Lock()
	if len(sigs) != 1 {
		t.Errorf("a user's test reached the receiver (%d requests)", len(sigs))
	}
	mu.Unlock()

	b = s.signIn("ada")
	res, body = b.post("/settings/channels/ops/remove", nil)
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Channel ops removed", "No notification channel yet.")
}
