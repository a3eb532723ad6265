package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/notify"
)

// TestChannels drives the channel routes through the public client:
// roles, a test delivery to a real receiver, listings without the
// secret, and the record.
func TestChannels(t *testing.T) {
	e := newEnv(t, openSQLite)
	const secret = "api-hook-s3cret-0042"
	var mu sync.Mutex
	var sigs, bodies []string
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		sigs, bodies = append(sigs, r.Header.Get(notify.SignatureHeader)), append(bodies, string(b))
		mu.Unlock()
	}))
	defer rx.Close()
	in := client.ChannelInput{Name: "ops", URL: rx.URL + "/hook?token=qs-9931", Secret: secret}
	if _, err := e.user.AddChannel(ctx, in); !client.IsForbidden(err) {
		t.Errorf("AddChannel as user = %v, want 403", err)
	}
	ch, err := e.admin.AddChannel(ctx, in)
	if err != nil {
		t.Fatalf("AddChannel: %v", err)
	}
	if ch.Name != "ops" || ch.Format != "generic" || !ch.SecretSet || ch.URL != rx.URL+"/…" || ch.CreatedBy != "user:ada" {
		t.Errorf("AddChannel = %+v", ch)
	}
	if _, err := e.user.TestChannel(ctx, "ops"); !client.IsForbidden(err) {
		t.Errorf("TestChannel as user = %v, want 403", err)
	}
	if err := e.user.RemoveChannel(ctx, "ops"); !client.IsForbidden(err) {
		t.Errorf("RemoveChannel as user = %v, want 403", err)
	}
	if _, err := e.user.ListNotifications(ctx, client.Page{}); !client.IsForbidden(err) {
		t.Errorf("ListNotifications as user = %v, want 403", err)
	}
	rec, err := e.admin.TestChannel(ctx, "ops")
	if err != nil || rec.Status != "sent" || rec.Kind != "test" || rec.HTTPStatus != 200 {
		t.Fatalf("TestChannel = %+v, %v", rec, err)
	}
	mu.Lock()
	if len(sigs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(sigs))
	}
	if _, ok := notify.Verify([]byte(secret), sigs[0], []byte(bodies[0])); !ok {
		t.Errorf("the test notification's signature does not verify")
	}
	mu.Unlock()
	list, err := e.user.ListChannels(ctx)
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "ops" {
		t.Errorf("ListChannels as user = %+v, %v", list, err)
	}
	sent, err := e.admin.ListNotifications(ctx, client.Page{})
	if err != nil || len(sent.Items) != 1 || sent.Items[0].Channel != "ops" {
		t.Errorf("ListNotifications = %+v, %v", sent, err)
	}
	_, err = e.admin.AddChannel(ctx, client.ChannelInput{Name: "bad", URL: "ftp://h.example/"})
	if p := wantProblem(t, err, http.StatusUnprocessableEntity); len(p.Errors) != 1 || p.Errors[0].Field != "url" {
		t.Errorf("AddChannel(ftp) problem = %+v, want one on url", p)
	}
	_, err = e.admin.AddChannel(ctx, in)
	wantProblem(t, err, http.StatusConflict)
	audit, err := e.admin.ListAudit(ctx, client.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range audit.Items {
		if strings.Contains(ev.Summary, secret) || strings.Contains(ev.Summary, "qs-9931") {
			t.Errorf("audit event %+v shows the secret", ev)
		}
	}
	if err := e.admin.RemoveChannel(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.TestChannel(ctx, "ops")
	wantProblem(t, err, http.StatusNotFound)
	for _, s := range []string{secret, "qs-9931"} {
		if e.rec.contains(s) {
			t.Errorf("an API response holds %q", s)
		}
	}
}
