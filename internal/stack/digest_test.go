package stack_test

import (
	"bytes"
	"context"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy"
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

// TestDeploymentEndpointAlertMailsTheTargetAdmin: an alert about the
// endpoint of a confirmed deployment (its certificate expires within the
// leaf-expiry rule's 30 days) is e-mailed to the target's admin through
// a real SMTP server, as well as to the instance's admin.
func TestDeploymentEndpointAlertMailsTheTargetAdmin(t *testing.T) {
	ctx := context.Background()
	srv := testenv.NewSMTPServer(t, testenv.SMTPOptions{})
	s := stacktest.New(t, stacktest.OpenSQLite(t), stack.Config{MailTimeout: 10 * time.Second})
	ptr := func(v string) *string { return &v }
	if _, err := s.Settings.Update(ctx, "user:ada", settings.Update{AdminEmail: ptr("pki@example.test"),
		SMTPHost: ptr(srv.Addr), Security: ptr(settings.SecurityNone)}); err != nil {
		t.Fatal(err)
	}
	cert, port := serveCert(t, "svc.example.test")
	res, err := s.Store.PutCertificates(ctx, []*inventory.Certificate{inventory.NewCertificate(cert, "test")})
	if err != nil {
		t.Fatal(err)
	}
	tv, err := s.Deploy.CreateTarget(ctx, "test", deploy.TargetInput{Name: "svc", Preset: "nginx", Method: inventory.MethodManual,
		AdminEmail: "svc-admin@example.test", Check: inventory.CheckSpec{Host: "127.0.0.1", Port: port, SNI: "svc.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := s.Deploy.Start(ctx, "test", res[0].ID, tv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deploy.Continue(ctx, "test", d.ID, "installed by hand"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Monitor.RunNow(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Alerts.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	var to []string
	for _, m := range srv.Messages() {
		if strings.Contains(m.Subject(), "svc.example.test") || strings.Contains(m.Subject(), "127.0.0.1") {
			to = append(to, m.To...)
		}
	}
	if !slices.Contains(to, "svc-admin@example.test") || !slices.Contains(to, "pki@example.test") {
		var subjects []string
		for _, m := range srv.Messages() {
			subjects = append(subjects, m.Subject()+" -> "+strings.Join(m.To, ","))
		}
		t.Fatalf("the endpoint's alert went to %v; want the target's admin and the instance's; all: %q", to, subjects)
	}
}
