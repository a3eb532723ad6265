package deploy_test

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/mail"
	"github.com/certkeeper/certkeeper/internal/settings"
	"github.com/certkeeper/certkeeper/internal/testenv"
	"github.com/certkeeper/certkeeper/internal/truststore"
)

// TestFailedCheckMailsTheTargetAdmin: each failed deploy check of a
// deployment e-mails the result to its target's admin through a real
// SMTP server, once per check, recorded in Sent E-mails; a target
// without an admin e-mail gets none.
func TestFailedCheckMailsTheTargetAdmin(t *testing.T) {
	srv := testenv.NewSMTPServer(t, testenv.SMTPOptions{})
	f := newSvcFixture(t, deploy.ServiceOptions{})
	m := mail.New(f.st, f.settings, mail.Config{Timeout: 5 * time.Second}, nil)
	f.svc = deploy.NewService(f.st, f.sealer, deploy.ServiceOptions{Mail: m, Trust: truststore.New(f.st, truststore.Options{})})
	ctx := t.Context()
	if _, err := f.settings.Update(ctx, svcActor, settings.Update{SMTPHost: ptr(srv.Addr), Security: ptr(settings.SecurityNone),
		From: ptr("certkeeper@example.com")}); err != nil {
		t.Fatal(err)
	}
	// A real TLS server on loopback that serves another certificate.
	other := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(other.Close)
	_, port, _ := net.SplitHostPort(other.Listener.Addr().String())
	n, _ := strconv.Atoi(port)
	check := inventory.CheckSpec{Host: "127.0.0.1", Port: n}
	tg := f.target(t, deploy.TargetInput{Name: "shop", Preset: "nginx", Method: inventory.MethodManual,
		AdminEmail: "ops@example.com", Check: check})
	quiet := f.target(t, deploy.TargetInput{Name: "lab", Preset: "nginx", Method: inventory.MethodManual, Check: check})
	a := f.issue(t)
	d := f.start(t, a.Record.ID, tg.ID)
	for i := range 2 {
		got, err := f.svc.Check(ctx, svcActor, d.ID)
		if err != nil || got.LastCheck == nil || got.LastCheck.Passed {
			t.Fatalf("Check = %+v, %v; want a failed check", got, err)
		}
		if msgs := srv.Wait(i+1, 10*time.Second); len(msgs) != i+1 {
			t.Fatalf("after check %d the server has %d messages", i+1, len(msgs))
		}
	}
	if _, err := f.svc.Check(ctx, svcActor, f.start(t, a.Record.ID, quiet.ID).ID); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2 (one per failed check of shop, none for lab)", len(msgs))
	}
	msg := msgs[1]
	parsed, err := netmail.ReadMessage(bytes.NewReader(msg.Data))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(quotedprintable.NewReader(parsed.Body))
	if err != nil {
		t.Fatal(err)
	}
	body := string(text)
	if msg.To[0] != "ops@example.com" || !strings.HasPrefix(msg.Subject(), "Deploy check failed: certificate ") ||
		!strings.Contains(msg.Subject(), " on shop") {
		t.Errorf("message to %v, subject %q", msg.To, msg.Subject())
	}
	for _, want := range []string{"127.0.0.1:" + port, "Expected:   SHA-256 " + strings.ToLower(a.Record.SHA256),
		"What is wrong:\n- ", "certkeeper deployment check " + strconv.FormatInt(d.ID, 10)} {
		if !strings.Contains(strings.ReplaceAll(body, "\r\n", "\n"), want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	sent, _, err := m.List(ctx, inventory.Page{Limit: 10})
	if err != nil || len(sent) != 2 || sent[0].Kind != deploy.KindCheckFailedEmail || sent[0].Status != "sent" {
		t.Errorf("Sent E-mails = %+v, %v; want the two, kind %s", sent, err, deploy.KindCheckFailedEmail)
	}
}
