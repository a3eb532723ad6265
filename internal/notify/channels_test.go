package notify_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/mail"
	"github.com/certkeeper/certkeeper/internal/notify"
	"github.com/certkeeper/certkeeper/internal/settings"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

func TestAddRefusesBadInput(t *testing.T) {
	cases := []struct {
		in    notify.ChannelInput
		field string
	}{
		{notify.ChannelInput{Name: "", URL: "https://h.example/"}, "name"},
		{notify.ChannelInput{Name: "a b", URL: "https://h.example/"}, "name"},
		{notify.ChannelInput{Name: "x", URL: "https://h.example/", Format: "email"}, "format"},
		{notify.ChannelInput{Name: "x", URL: ""}, "url"},
		{notify.ChannelInput{Name: "x", URL: "ftp://h.example/"}, "url"},
		{notify.ChannelInput{Name: "x", URL: "file:///etc/passwd"}, "url"},
		{notify.ChannelInput{Name: "x", URL: "https:///path"}, "url"},
		{notify.ChannelInput{Name: "x", URL: "https://u:p@h.example/"}, "url"},
		{notify.ChannelInput{Name: "x", URL: "h.example/hook"}, "url"},
		{notify.ChannelInput{Name: "x", URL: "https://h.example/", Format: "slack", Secret: "s"}, "secret"},
		{notify.ChannelInput{Name: "x", Format: "pagerduty"}, "secret"},
		{notify.ChannelInput{Name: "x", URL: "https://h.example/", Secret: "a\nb"}, "secret"},
		{notify.ChannelInput{Name: "x", URL: "https://h.example/", Secret: strings.Repeat("s", notify.MaxSecret+1)}, "secret"},
	}
	e := newEnv(t)
	for _, c := range cases {
		_, err := e.svc.Add(ctx, admin, c.in)
		var fe *inventory.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("Add(%+v) = %v; want a FieldError on %s", c.in, err, c.field)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Add(%+v) error %q is not one line", c.in, err)
		}
	}
	if list, _ := e.svc.List(ctx); len(list) != 0 {
		t.Errorf("refused input stored %+v", list)
	}
	if events := auditEvents(t, e); len(events) != 0 {
		t.Errorf("refused input audited %+v", events)
	}
}

func TestAddNameInUse(t *testing.T) {
	e := newEnv(t)
	e.add(t, notify.ChannelInput{Name: "ops", URL: "https://h.example/"})
	if _, err := e.svc.Add(ctx, admin, notify.ChannelInput{Name: "ops", URL: "https://other.example/"}); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("Add(name in use) = %v; want ErrConflict", err)
	}
	if events := auditEvents(t, e); len(events) != 1 {
		t.Errorf("audit = %+v; want the first add only", events)
	}
}

func TestUserIsForbidden(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t)
	e.add(t, notify.ChannelInput{Name: "ops", URL: rx.URL})
	if _, err := e.svc.Add(ctx, plain, notify.ChannelInput{Name: "mine", URL: rx.URL}); !errors.Is(err, notify.ErrForbidden) {
		t.Errorf("Add by a user = %v; want ErrForbidden", err)
	}
	if _, err := e.svc.Test(ctx, plain, "ops"); !errors.Is(err, notify.ErrForbidden) {
		t.Errorf("Test by a user = %v; want ErrForbidden", err)
	}
	if err := e.svc.Remove(ctx, plain, "ops"); !errors.Is(err, notify.ErrForbidden) {
		t.Errorf("Remove by a user = %v; want ErrForbidden", err)
	}
	if list, _ := e.svc.List(ctx); len(list) != 1 || list[0].Name != "ops" {
		t.Errorf("channels after a user's attempts = %+v; want ops alone", list)
	}
	if n := len(rx.requests()); n != 0 {
		t.Errorf("a user's test reached the receiver (%d requests)", n)
	}
}

func TestTestAndRemoveAudited(t *testing.T) {
	e := newEnv(t)
	rx := newReceiver(t)
	e.add(t, notify.ChannelInput{Name: "ops", URL: rx.URL, Secret: hookSecret})
	rec, err := e.svc.Test(ctx, admin, "ops")
	if err != nil || rec.Status != "sent" || rec.Kind != inventory.NoticeTest {
		t.Fatalf("Test = %+v, %v; want a sent test", rec, err)
	}
	verifySignature(t, hookSecret, rx.requests()[0].header.Get(notify.SignatureHeader), rx.requests()[0].body)
	if _, err := e.svc.Test(ctx, admin, "nope"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Test(unknown) = %v; want ErrNotFound", err)
	}
	if err := e.svc.Remove(ctx, admin, "ops"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Remove(ctx, admin, "ops"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Remove(unknown) = %v; want ErrNotFound", err)
	}
	var got []string
	for _, ev := range auditEvents(t, e) {
		got = append(got, ev.Action+" "+ev.Object+" "+ev.Actor)
	}
	want := []string{"channel.add channel:ops user:root", "channel.test channel:ops user:root", "channel.remove channel:ops user:root"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit = %q; want %q", got, want)
	}
	if recs := e.sent(t); len(recs) != 1 {
		t.Errorf("records after remove = %+v; want the test kept", recs)
	}
}

// TestSecretNeverShown: the secret and the URL's token are in no listing,
// audit event, log line, record or error, even when the receiver echoes
// the request back in its refusal.
func TestSecretNeverShown(t *testing.T) {
	e := newEnv(t)
	echo := newReceiver(t)
	echo.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "bad token %s for %s", r.Header.Get("Authorization"), r.URL.RequestURI())
	})
	const token, urlToken = "tk_N0tF0rY0urEyes", "qs-t0ken-9f8e7d"
	e.add(t, notify.ChannelInput{Name: "phone", Format: "ntfy", URL: echo.URL + "/t?auth=" + urlToken, Secret: token})
	e.add(t, notify.ChannelInput{Name: "dead", URL: "http://" + testenv.FreeAddr(t) + "/x?key=" + urlToken, Secret: token})
	err := e.svc.Notify(ctx, notice("phone", "dead"))
	if err == nil {
		t.Fatal("Notify succeeded against a refusing receiver and a dead port")
	}
	rec, testErr := e.svc.Test(ctx, admin, "phone")
	list, _ := e.svc.List(ctx)
	var seen []string
	seen = append(seen, err.Error(), fmt.Sprint(testErr), fmt.Sprintf("%+v", rec), e.log.String())
	for _, c := range list {
		seen = append(seen, fmt.Sprintf("%+v", c))
	}
	for _, ev := range auditEvents(t, e) {
		seen = append(seen, fmt.Sprintf("%+v", ev))
	}
	for _, n := range e.sent(t) {
		seen = append(seen, fmt.Sprintf("%+v", n))
	}
	all := strings.Join(seen, "\n")
	for _, secret := range []string{token, urlToken} {
		if strings.Contains(all, secret) {
			t.Errorf("%q shows through:\n%s", secret, all)
		}
	}
	if len(list) != 2 || list[1].Name != "phone" || list[1].URL != echo.URL+"/…" || !list[0].SecretSet || !list[1].SecretSet {
		t.Errorf("List = %+v; want URLs cut to the host and the secrets set", list)
	}
	if !strings.Contains(all, "HTTP 401: bad token Bearer [redacted]") {
		t.Errorf("the refusal is not recorded (redacted):\n%s", all)
	}
}

// TestEmail mails a notice through a real SMTP server, one message per
// address, each in Sent E-mails with the notice's kind.
func TestEmail(t *testing.T) {
	srv := testenv.NewSMTPServer(t, testenv.SMTPOptions{})
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, _ := keys.NewSealer(nil, bytes.Repeat([]byte{7}, keys.MasterKeySize))
	set := settings.New(st, sealer, nil)
	ptr := func(s string) *string { return &s }
	if _, err := set.Update(ctx, "test", settings.Update{SMTPHost: ptr(srv.Addr), Security: ptr(settings.SecurityNone),
		From: ptr("certkeeper@example.com")}); err != nil {
		t.Fatal(err)
	}
	m := mail.New(st, set, mail.Config{Timeout: 5 * time.Second}, slog.New(slog.DiscardHandler))
	svc := notify.New(st, sealer, notify.Options{Mail: m})
	n := notice()
	n.Emails = []string{"ops@example.com", "pki@example.com"}
	if err := svc.Notify(ctx, n); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	msgs := srv.Wait(2, 10*time.Second)
	if len(msgs) != 2 {
		t.Fatalf("server received %d messages, want 2", len(msgs))
	}
	for i, want := range n.Emails {
		if len(msgs[i].To) != 1 || msgs[i].To[0] != want || msgs[i].Subject() != n.Subject ||
			!strings.Contains(string(msgs[i].Data), "https://ck.example.com/alerts/42") {
			t.Errorf("message %d: to %v, subject %q; want to %s with the subject and link", i, msgs[i].To, msgs[i].Subject(), want)
		}
	}
	sent, _, err := m.List(ctx, inventory.Page{})
	if err != nil || len(sent) != 2 || sent[0].Kind != "firing" || sent[0].Status != inventory.EmailSent {
		t.Errorf("Sent E-mails = %+v, %v; want two sent of kind firing", sent, err)
	}
}

func TestEmailWithoutMailer(t *testing.T) {
	e := newEnv(t)
	n := notice()
	n.Emails = []string{"ops@example.com"}
	if err := e.svc.Notify(ctx, n); !errors.Is(err, notify.ErrNoMail) {
		t.Errorf("Notify = %v; want ErrNoMail", err)
	}
}

func auditEvents(t *testing.T, e *env) []inventory.AuditEvent {
	t.Helper()
	events, _, err := e.st.ListAudit(ctx, time.Time{}, inventory.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return events
}
