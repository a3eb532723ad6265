package mail_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/mail"
	"github.com/certkeeper/certkeeper/internal/settings"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

const (
	user     = "mailer"
	password = "Tr0ub4dor&3-smtp"
)

var ctx = context.Background()

// env is a mailer over a real SQLite store, with its log kept.
type env struct {
	st       inventory.Store
	settings *settings.Service
	log      *testenv.Buffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, err := keys.NewSealer(nil, bytes.Repeat([]byte{7}, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, settings: settings.New(st, sealer, nil), log: &testenv.Buffer{}}
}

// mailer returns a mailer trusting roots, after storing the settings.
func (e *env) mailer(t *testing.T, roots *x509.CertPool, u settings.Update) *mail.Service {
	t.Helper()
	if _, err := e.settings.Update(ctx, "test", u); err != nil {
		t.Fatal(err)
	}
	return mail.New(e.st, e.settings, mail.Config{Roots: roots, Timeout: 5 * time.Second},
		slog.New(slog.NewTextHandler(e.log, nil)))
}

func ptr(s string) *string { return &s }

// smtpSettings points the settings at srv.
func smtpSettings(srv *smtpServer, security, username, pw string) settings.Update {
	return settings.Update{AdminEmail: ptr("pki@example.com"), ExternalURL: ptr("https://ck.example.com"),
		SMTPHost: ptr(srv.Addr), Security: ptr(security), Username: ptr(username), Password: ptr(pw),
		From: ptr("certkeeper@example.com")}
}

func TestSendStartTLSAuth(t *testing.T) {
	srv := newSMTPServer(t, startTLS, user, password)
	e := newEnv(t)
	m := e.mailer(t, srv.Roots, smtpSettings(srv, settings.SecurityStartTLS, user, password))
	body := "The certificate of shop.example.com expires in 10 days.\nRenew it at https://ck.example.com/definitions/7.\n"
	got, err := m.Send(ctx, "alert", []string{"ops@example.com", "dev@example.com"}, "Expiring: shop.example.com", body)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != inventory.EmailSent || got.ID == 0 || got.Error != "" {
		t.Errorf("Send = %+v, want a recorded sent e-mail", got)
	}
	msgs := srv.messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	r := msgs[0]
	if r.From != "certkeeper@example.com" || strings.Join(r.To, ",") != "ops@example.com,dev@example.com" {
		t.Errorf("envelope from %q to %q, want certkeeper@example.com to ops@, dev@", r.From, r.To)
	}
	hdr, text := parse(t, r.Data)
	for k, want := range map[string]string{"From": "<certkeeper@example.com>", "To": "<ops@example.com>, <dev@example.com>",
		"Subject": "Expiring: shop.example.com"} {
		if got := hdr.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if strings.ReplaceAll(text, "\r\n", "\n") != body {
		t.Errorf("body = %q, want %q", text, body)
	}
	list, _, err := m.List(ctx, inventory.Page{})
	if err != nil || len(list) != 1 || list[0].Subject != "Expiring: shop.example.com" || list[0].Status != "sent" {
		t.Errorf("List = %+v, %v; want the sent e-mail", list, err)
	}
	e.checkLog(t, "status=sent", body)
}

func TestSendImplicitTLS(t *testing.T) {
	srv := newSMTPServer(t, implicitTLS, user, password)
	e := newEnv(t)
	m := e.mailer(t, srv.Roots, smtpSettings(srv, settings.SecurityTLS, user, password))
	if got, err := m.Send(ctx, "alert", []string{"ops@example.com"}, "hello", "body"); err != nil || got.Status != "sent" {
		t.Fatalf("Send over implicit TLS = %+v, %v; want sent", got, err)
	}
	if n := len(srv.messages()); n != 1 {
		t.Errorf("server received %d messages, want 1", n)
	}
}

func TestSendPlain(t *testing.T) {
	srv := newSMTPServer(t, plainOnly, "", "")
	e := newEnv(t)
	m := e.mailer(t, nil, smtpSettings(srv, settings.SecurityNone, "", ""))
	if got, err := m.Send(ctx, "alert", []string{"ops@example.com"}, "hello", "body"); err != nil || got.Status != "sent" {
		t.Fatalf("Send in the clear = %+v, %v; want sent", got, err)
	}
}

// TestSendFailures checks that failed deliveries are recorded with a
// one-line reason that never holds the password, and nothing arrives.
func TestSendFailures(t *testing.T) {
	_, otherRoots := serverCert(t)
	for _, tc := range []struct {
		name     string
		mode     serverMode
		security string
		pw       string
		roots    func(*smtpServer) *x509.CertPool
		want     string
	}{
		{"wrong password", startTLS, settings.SecurityStartTLS, "wrong-" + password, nil, "535"},
		{"wrong password, implicit TLS", implicitTLS, settings.SecurityTLS, "wrong-" + password, nil, "535"},
		{"no STARTTLS offered", plainOnly, settings.SecurityStartTLS, password, nil, "STARTTLS"},
		{"untrusted certificate", startTLS, settings.SecurityStartTLS, password,
			func(*smtpServer) *x509.CertPool { return otherRoots }, "certificate"},
		{"untrusted certificate, implicit TLS", implicitTLS, settings.SecurityTLS, password,
			func(*smtpServer) *x509.CertPool { return otherRoots }, "certificate"},
		{"system roots", startTLS, settings.SecurityStartTLS, password,
			func(*smtpServer) *x509.CertPool { return nil }, "certificate"},
		{"TLS to a plain server", plainOnly, settings.SecurityTLS, password, nil, "tls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newSMTPServer(t, tc.mode, user, password)
			roots := srv.Roots
			if tc.roots != nil {
				roots = tc.roots(srv)
			}
			e := newEnv(t)
			m := e.mailer(t, roots, smtpSettings(srv, tc.security, user, tc.pw))
			got, err := m.Send(ctx, "alert", []string{"ops@example.com"}, "hello", "body")
			if !errors.Is(err, mail.ErrFailed) || got == nil || got.Status != inventory.EmailFailed {
				t.Fatalf("Send = %+v, %v; want a recorded failure", got, err)
			}
			t.Logf("recorded error: %s", got.Error)
			if !strings.Contains(got.Error, tc.want) || strings.Contains(got.Error, "\n") {
				t.Errorf("recorded error %q, want one line mentioning %q", got.Error, tc.want)
			}
			e.checkSecret(t, tc.pw, got.Error, err.Error())
			list, _, _ := m.List(ctx, inventory.Page{})
			if len(list) != 1 || list[0].Status != "failed" || list[0].Error != got.Error {
				t.Errorf("List = %+v, want the failed e-mail", list)
			}
			if n := len(srv.messages()); n != 0 {
				t.Errorf("server received %d messages, want none", n)
			}
			e.checkLog(t, "status=failed", "body")
		})
	}
}

// TestPasswordEchoRedacted makes sure the test server does echo the
// password, so that TestSendFailures's check means something.
func TestPasswordEchoRedacted(t *testing.T) {
	srv := newSMTPServer(t, startTLS, user, password)
	e := newEnv(t)
	m := e.mailer(t, srv.Roots, smtpSettings(srv, settings.SecurityStartTLS, user, "bad"+password))
	got, _ := m.Send(ctx, "alert", []string{"ops@example.com"}, "hello", "body")
	if got == nil || !strings.Contains(got.Error, "with password [redacted]") {
		t.Fatalf("recorded error %+v, want the echoed password redacted", got)
	}
}

func TestTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // accept and say nothing
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	e := newEnv(t)
	if _, err := e.settings.Update(ctx, "test", settings.Update{AdminEmail: ptr("pki@example.com"),
		SMTPHost: ptr(l.Addr().String())}); err != nil {
		t.Fatal(err)
	}
	m := mail.New(e.st, e.settings, mail.Config{Timeout: 300 * time.Millisecond}, nil)
	start := time.Now()
	got, err := m.Send(ctx, "alert", []string{"ops@example.com"}, "hello", "body")
	if !errors.Is(err, mail.ErrFailed) || got == nil || time.Since(start) > 5*time.Second {
		t.Errorf("Send to a silent server = %+v, %v after %s; want a failure within the timeout", got, err, time.Since(start))
	}
}

func TestNotSetUp(t *testing.T) {
	e := newEnv(t)
	for _, u := range []settings.Update{
		{AdminEmail: ptr("pki@example.com")},
		{SMTPHost: ptr("127.0.0.1:25"), AdminEmail: ptr("")},
	} {
		m := e.mailer(t, nil, u)
		got, err := m.Send(ctx, "alert", []string{"ops@example.com"}, "hello", "body")
		if !errors.Is(err, mail.ErrNotSetUp) || got != nil {
			t.Errorf("Send with %+v = %+v, %v; want ErrNotSetUp", u, got, err)
		}
	}
	m := e.mailer(t, nil, settings.Update{SMTPHost: ptr("")})
	_, err := m.SendTest(ctx, "user:ada", "ops@example.com")
	if err == nil || err.Error() != "mail: e-mail is not set up: set the SMTP server in Settings" {
		t.Errorf("SendTest not set up = %v, want the set-up message", err)
	}
	if list, _, _ := m.List(ctx, inventory.Page{}); len(list) != 0 {
		t.Errorf("not set up recorded %d e-mails, want none", len(list))
	}
}

func TestBadRecipient(t *testing.T) {
	srv := newSMTPServer(t, startTLS, user, password)
	e := newEnv(t)
	m := e.mailer(t, srv.Roots, smtpSettings(srv, settings.SecurityStartTLS, user, password))
	for _, to := range []string{"Eve <eve@example.com>", "a@example.com\r\nBcc: eve@example.com", "nobody"} {
		_, err := m.SendTest(ctx, "user:ada", to)
		var fe *inventory.FieldError
		if !errors.As(err, &fe) || fe.Field != "to" {
			t.Errorf("SendTest(%q) = %v, want a field error on to", to, err)
		}
	}
	if n := len(srv.messages()); n != 0 {
		t.Errorf("server received %d messages, want none", n)
	}
}

func TestSendTest(t *testing.T) {
	srv := newSMTPServer(t, startTLS, user, password)
	e := newEnv(t)
	m := e.mailer(t, srv.Roots, smtpSettings(srv, settings.SecurityStartTLS, user, password))
	got, err := m.SendTest(ctx, "user:ada", "")
	if err != nil || got.Kind != "test" || got.To[0] != "pki@example.com" {
		t.Fatalf("SendTest to the admin = %+v, %v; want a test e-mail to pki@example.com", got, err)
	}
	msgs := srv.messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages, want 1", len(msgs))
	}
	hdr, text := parse(t, msgs[0].Data)
	if hdr.Get("Subject") != "certkeeper test e-mail" || !strings.Contains(text, "https://ck.example.com") ||
		!strings.Contains(text, time.Now().UTC().Format("2 Jan 2006")) {
		t.Errorf("test e-mail %q: %q; want the subject, external URL and date", hdr.Get("Subject"), text)
	}
	// A failed test is audited too.
	if _, err := e.settings.Update(ctx, "test", settings.Update{Password: ptr("wrong")}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SendTest(ctx, "user:ada", "ops@example.com"); !errors.Is(err, mail.ErrFailed) {
		t.Errorf("SendTest with a wrong password = %v, want ErrFailed", err)
	}
	events, _, err := e.st.ListAudit(ctx, time.Time{}, inventory.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var tests []string
	for _, ev := range events {
		if ev.Action == "email.test" {
			tests = append(tests, ev.Summary)
		}
	}
	if len(tests) != 2 || tests[0] != "to pki@example.com: sent" || !strings.HasPrefix(tests[1], "to ops@example.com: failed: ") {
		t.Errorf("email.test audit = %q, want one sent and one failed", tests)
	}
}

// parse splits a received message into its header and decoded body.
func parse(t *testing.T, data []byte) (netmail.Header, string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return msg.Header, string(b)
}

// checkSecret fails when the password, or its base64 forms, is in any of
// texts, the log or the audit trail.
func (e *env) checkSecret(t *testing.T, pw string, texts ...string) {
	t.Helper()
	texts = append(texts, e.log.String())
	events, _, _ := e.st.ListAudit(ctx, time.Time{}, inventory.Page{})
	for _, ev := range events {
		texts = append(texts, ev.Summary)
	}
	b64 := base64.StdEncoding.EncodeToString
	for _, s := range texts {
		for _, secret := range []string{pw, b64([]byte(pw)), b64([]byte("\x00" + user + "\x00" + pw))} {
			if strings.Contains(s, secret) {
				t.Errorf("%q holds the password", s)
			}
		}
	}
}

// checkLog wants the log to mention want and never the body or password.
func (e *env) checkLog(t *testing.T, want, body string) {
	t.Helper()
	log := e.log.String()
	if !strings.Contains(log, want) || strings.Contains(log, body) || strings.Contains(log, password) {
		t.Errorf("log %q: want %q in it, and neither the body nor the password", log, want)
	}
}
