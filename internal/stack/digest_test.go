package stack_test

import (
	"bytes"
	"context"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/settings"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/stack/stacktest"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// digests returns the digest e-mails the SMTP server received.
func digests(srv *testenv.SMTPServer) []testenv.SMTPMessage {
	var out []testenv.SMTPMessage
	for _, m := range srv.Messages() {
		if strings.HasPrefix(m.Subject(), "certkeeper digest ") {
			out = append(out, m)
		}
	}
	return out
}

// TestDigestJobMailsTheAdmin: the digest job, with the stack's sources
// and settings, mails the admin through a real SMTP server once its time
// of day has passed: the first day's changes, nothing on a quiet day,
// and on a day with an open alert one e-mail listing it with links.
func TestDigestJobMailsTheAdmin(t *testing.T) {
	ctx := context.Background()
	srv := testenv.NewSMTPServer(t, testenv.SMTPOptions{})
	clock := testenv.NewClock(time.Now().UTC().Truncate(time.Minute))
	s := stacktest.New(t, stacktest.OpenSQLite(t), stack.Config{Now: clock.Now, MailTimeout: 10 * time.Second})
	ptr := func(v string) *string { return &v }
	if _, err := s.Settings.Update(ctx, "user:ada", settings.Update{AdminEmail: ptr("pki@example.test"),
		ExternalURL: ptr("https://ck.example.test/"), SMTPHost: ptr(srv.Addr), Security: ptr(settings.SecurityNone),
		DigestTime: ptr(clock.Now().Add(time.Minute).Format("15:04"))}); err != nil {
		t.Fatal(err)
	}
	run := func(what string) bool {
		t.Helper()
		res, err := s.Digest.RunDue(ctx)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return res != nil
	}
	if run("before its time") || len(srv.Messages()) != 0 {
		t.Fatal("a digest before its time of day")
	}
	clock.Advance(time.Minute)
	if !run("first day") || run("again that day") || len(digests(srv)) != 1 {
		t.Fatalf("first day: %d digests, want the settings change mailed once", len(digests(srv)))
	}
	clock.Advance(24 * time.Hour)
	if !run("quiet day") || len(digests(srv)) != 1 {
		t.Fatalf("quiet day: %d digests, want none more", len(digests(srv)))
	}
	clock.Advance(24 * time.Hour)
	id := overdueDefinition(t, s)
	if _, err := s.Alerts.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	open, err := s.Alerts.Open(ctx)
	if err != nil || len(open) == 0 {
		t.Fatalf("open alerts = %+v, %v; want the overdue renewal", open, err)
	}
	if !run("day with an alert") || run("again that day") {
		t.Fatal("want one digest on the day with an alert")
	}
	got := digests(srv)
	if len(got) != 2 || len(got[1].To) != 1 || got[1].To[0] != "pki@example.test" {
		t.Fatalf("digests %+v; want a second one to pki@example.test", got)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got[1].Data))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	body := string(text)
	for _, want := range []string{"1 thing needs action", "[warning] overdue-" + id + ": " + open[0].Summary,
		"  https://ck.example.test/alerts/" + strconv.FormatInt(open[0].ID, 10)} {
		if !strings.Contains(got[1].Subject()+body, want) {
			t.Errorf("digest lacks %q:\n%s\n%s", want, got[1].Subject(), body)
		}
	}
}

// overdueDefinition stores a definition whose current certificate is in
// its renewal window with nothing under way, and returns its name's tail.
func overdueDefinition(t *testing.T, s *stack.Stack) string {
	t.Helper()
	ctx := context.Background()
	cert, _ := serveCert(t, "overdue.example.test")
	res, err := s.Store.PutCertificates(ctx, []*inventory.Certificate{inventory.NewCertificate(cert, "test")})
	if err != nil {
		t.Fatal(err)
	}
	d := &inventory.Definition{Name: "overdue-web", Subject: inventory.Subject{CommonName: "overdue.example.test"},
		SANs: []string{"overdue.example.test"}, KeyType: "ecdsa-p256", Renewal: inventory.Renewal{DaysBefore: 60},
		CurrentCertificateID: res[0].ID}
	if err := s.Store.PutDefinition(ctx, d); err != nil {
		t.Fatal(err)
	}
	return "web"
}
