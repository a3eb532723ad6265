package api_test

import (
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/access"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

const smtpPassword = "Sm7p-pa55word-xyz"

func TestSettingsSQLite(t *testing.T) { runSettings(t, openSQLite) }

func TestSettingsPostgres(t *testing.T) {
	if os.Getenv("CERTKEEPER_TEST_POSTGRES") == "" {
		testenv.Missing(t, "CERTKEEPER_TEST_POSTGRES is not set")
	}
	runSettings(t, openPostgres)
}

func runSettings(t *testing.T, open opener) {
	for name, test := range map[string]func(*testing.T, *settingsEnv){
		"roles": testSettingsRoles, "settings": testSettings, "validation": testSettingsValidation,
		"test e-mail": testTestEmail, "allow-list": testAllowList,
	} {
		t.Run(name, func(t *testing.T) { test(t, newSettingsEnv(t, open)) })
	}
}

// settingsEnv is env whose mailer trusts the test SMTP server and whose
// allow-list file is known. The SMTP server offers STARTTLS and requires
// AUTH PLAIN as mailer / smtpPassword; a failed AUTH echoes the password
// it was given.
type settingsEnv struct {
	*env
	smtp      *testenv.SMTPServer
	allowPath string
}

func newSettingsEnv(t *testing.T, open opener) *settingsEnv {
	smtp := testenv.NewSMTPServer(t, testenv.SMTPOptions{Security: "starttls",
		Username: "mailer", Password: smtpPassword, EchoPassword: true})
	allowPath := filepath.Join(t.TempDir(), "allowlist")
	e := newEnv(t, open, func(st inventory.Store, cfg *stack.Config) {
		cfg.MailRoots, cfg.MailTimeout = smtp.Roots, 10*time.Second
		allow, err := access.Open(allowPath, st, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Access = allow
	})
	return &settingsEnv{env: e, smtp: smtp, allowPath: allowPath}
}

func sp(s string) *string { return &s }

func testSettingsRoles(t *testing.T, e *settingsEnv) {
	for name, call := range map[string]func() error{
		"GetSettings":     func() error { _, err := e.user.GetSettings(ctx); return err },
		"UpdateSettings":  func() error { _, err := e.user.UpdateSettings(ctx, client.SettingsUpdate{}); return err },
		"SendTestEmail":   func() error { _, err := e.user.SendTestEmail(ctx, client.TestEmail{}); return err },
		"ListEmails":      func() error { _, err := e.user.ListEmails(ctx, client.Page{}); return err },
		"GetAllowList":    func() error { _, err := e.user.GetAllowList(ctx); return err },
		"UpdateAllowList": func() error { _, err := e.user.UpdateAllowList(ctx, client.AllowList{}); return err },
	} {
		if err := call(); !client.IsForbidden(err) {
			t.Errorf("%s as user = %v, want 403", name, err)
		}
	}
}

// smtpUpdate points the settings at the test SMTP server.
func (e *settingsEnv) smtpUpdate(password string) client.SettingsUpdate {
	return client.SettingsUpdate{AdminEmail: sp("pki@example.com"), ExternalURL: sp("https://ck.example.com"),
		SMTPHost: sp(e.smtp.Addr), SMTPSecurity: sp("starttls"), SMTPUsername: sp("mailer"),
		SMTPFrom: sp("certkeeper@example.com"), SMTPPassword: sp(password)}
}

func testSettings(t *testing.T, e *settingsEnv) {
	got, err := e.admin.GetSettings(ctx)
	if err != nil || got.SMTPSecurity != "starttls" || got.SMTPHost != "" || got.SMTPPasswordSet {
		t.Fatalf("GetSettings on a new instance = %+v, %v; want defaults", got, err)
	}
	if got, err = e.admin.UpdateSettings(ctx, e.smtpUpdate(smtpPassword)); err != nil {
		t.Fatal(err)
	}
	want := client.Settings{AdminEmail: "pki@example.com", ExternalURL: "https://ck.example.com", SMTPHost: e.smtp.Addr,
		SMTPSecurity: "starttls", SMTPUsername: "mailer", SMTPFrom: "certkeeper@example.com", SMTPPasswordSet: true,
		MonitorTime: "06:00", MonitorRetentionDays: 90, MonitorConcurrency: 50,
		DigestTime: "07:00", DigestChannels: []string{}}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("UpdateSettings = %+v, want %+v", got, want)
	}
	// Absent fields are kept; an empty password removes it.
	if got, err = e.admin.UpdateSettings(ctx, client.SettingsUpdate{AdminEmail: sp("ops@example.com")}); err != nil ||
		got.SMTPHost != want.SMTPHost || !got.SMTPPasswordSet || got.AdminEmail != "ops@example.com" {
		t.Errorf("changing the admin e-mail = %+v, %v; want the rest kept", got, err)
	}
	if got, err = e.admin.UpdateSettings(ctx, client.SettingsUpdate{SMTPPassword: sp("")}); err != nil || got.SMTPPasswordSet {
		t.Errorf("removing the password = %+v, %v; want no password", got, err)
	}
	if _, err := e.admin.GetSettings(ctx); err != nil {
		t.Fatal(err)
	}
	audit, err := e.admin.ListAudit(ctx, client.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if e.rec.contains(smtpPassword) {
		t.Error("a response holds the SMTP password")
	}
	var updates int
	for _, ev := range audit.Items {
		if ev.Action == "settings.update" && ev.Actor == "user:ada" {
			updates++
		}
	}
	if updates != 3 {
		t.Errorf("%d settings.update events by user:ada, want 3", updates)
	}
}

func testSettingsValidation(t *testing.T, e *settingsEnv) {
	before, err := e.admin.UpdateSettings(ctx, e.smtpUpdate(smtpPassword))
	if err != nil {
		t.Fatal(err)
	}
	for field, u := range map[string]client.SettingsUpdate{
		"admin_email":   {AdminEmail: sp("Eve <eve@example.com>")},
		"external_url":  {ExternalURL: sp("https://ck.example.com/?x=1")},
		"smtp_host":     {SMTPHost: sp("smtp.example.com:0"), AdminEmail: sp("new@example.com")},
		"smtp_security": {SMTPSecurity: sp("ssl")},
		"smtp_username": {SMTPUsername: sp("a\r\nb")},
		"smtp_from":     {SMTPFrom: sp("a@example.com, b@example.com")},
		"smtp_password": {SMTPPassword: sp(smtpPassword + "\n")},
	} {
		_, err := e.admin.UpdateSettings(ctx, u)
		p := wantProblem(t, err, http.StatusUnprocessableEntity)
		if len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("%s: problem %+v, want the field named", field, p)
		}
	}
	after, err := e.admin.GetSettings(ctx)
	if err != nil || !reflect.DeepEqual(after, before) {
		t.Errorf("after refused updates: %+v, %v; want %+v", after, err, before)
	}
	if e.rec.contains(smtpPassword) {
		t.Error("a response holds the SMTP password")
	}
}

func testTestEmail(t *testing.T, e *settingsEnv) {
	_, err := e.admin.SendTestEmail(ctx, client.TestEmail{To: "ops@example.com"})
	p := wantProblem(t, err, http.StatusConflict)
	if !strings.Contains(p.Detail, "not set up") {
		t.Errorf("not set up: detail %q, want it said", p.Detail)
	}
	if _, err := e.admin.UpdateSettings(ctx, e.smtpUpdate(smtpPassword)); err != nil {
		t.Fatal(err)
	}
	sent, err := e.admin.SendTestEmail(ctx, client.TestEmail{To: "ops@example.com"})
	if err != nil || sent.Status != "sent" || sent.Subject != "certkeeper test e-mail" || sent.To[0] != "ops@example.com" {
		t.Fatalf("SendTestEmail = %+v, %v; want sent to ops@example.com", sent, err)
	}
	msgs := e.smtp.Messages()
	if len(msgs) != 1 || msgs[0].From != "certkeeper@example.com" || msgs[0].To[0] != "ops@example.com" ||
		!strings.Contains(string(msgs[0].Data), "Subject: certkeeper test e-mail") {
		t.Fatalf("SMTP server received %+v, want the test e-mail", msgs)
	}
	_, err = e.admin.SendTestEmail(ctx, client.TestEmail{To: "Eve <eve@example.com>"})
	if p := wantProblem(t, err, http.StatusUnprocessableEntity); len(p.Errors) != 1 || p.Errors[0].Field != "to" {
		t.Errorf("bad recipient: problem %+v, want field to", p)
	}

	// A wrong password fails with 502; the server echoes the password in
	// its answer, and it must reach neither the problem nor the list.
	wrong := "wrong-" + smtpPassword
	if _, err := e.admin.UpdateSettings(ctx, client.SettingsUpdate{SMTPPassword: &wrong}); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.SendTestEmail(ctx, client.TestEmail{})
	p = wantProblem(t, err, http.StatusBadGateway)
	if !strings.Contains(p.Detail, "535") {
		t.Errorf("failed delivery detail %q, want the server's answer", p.Detail)
	}
	list, err := e.admin.ListEmails(ctx, client.Page{})
	if err != nil || len(list.Items) != 2 {
		t.Fatalf("ListEmails = %+v, %v; want 2 e-mails", list, err)
	}
	failed, ok := list.Items[0], list.Items[1]
	if failed.Status != "failed" || failed.To[0] != "pki@example.com" || !strings.Contains(failed.Error, "535") ||
		ok.Status != "sent" || ok.ID != sent.ID {
		t.Errorf("ListEmails = %+v, want the failed e-mail then the sent one", list.Items)
	}
	page, err := e.admin.ListEmails(ctx, client.Page{Limit: 1})
	if err != nil || len(page.Items) != 1 || page.Next == "" {
		t.Errorf("ListEmails limit 1 = %+v, %v; want one and a next cursor", page, err)
	}
	for _, secret := range []string{smtpPassword, wrong} {
		if e.rec.contains(secret) {
			t.Errorf("a response holds the SMTP password %q", secret)
		}
	}
}

func testAllowList(t *testing.T, e *settingsEnv) {
	got, err := e.admin.GetAllowList(ctx)
	if err != nil || got.Caller != "127.0.0.1" || !slices.Contains(got.Prefixes, "127.0.0.0/8") {
		t.Fatalf("GetAllowList = %+v, %v; want the defaults and caller 127.0.0.1", got, err)
	}
	file, err := os.ReadFile(e.allowPath)
	if err != nil {
		t.Fatal(err)
	}
	for name, prefixes := range map[string][]string{
		"lock-out": {"10.0.0.0/8", "192.0.2.7"}, "bad entry": {"127.0.0.1", "nope"}, "empty": {},
		"zone": {"127.0.0.1", "fe80::1%eth0"},
	} {
		_, err := e.admin.UpdateAllowList(ctx, client.AllowList{Prefixes: prefixes})
		p := wantProblem(t, err, http.StatusUnprocessableEntity)
		if len(p.Errors) != 1 || p.Errors[0].Field != "prefixes" {
			t.Errorf("%s: problem %+v, want field prefixes", name, p)
		}
		if name == "bad entry" && !strings.Contains(p.Errors[0].Detail, `"nope"`) {
			t.Errorf("bad entry: detail %q, want the entry named", p.Errors[0].Detail)
		}
		if now, _ := os.ReadFile(e.allowPath); string(now) != string(file) {
			t.Errorf("%s: the allow-list file changed to %q", name, now)
		}
	}
	got, err = e.admin.UpdateAllowList(ctx, client.AllowList{Prefixes: []string{" 127.0.0.1 ", "10.0.0.0/8", "2001:db8::/32"}})
	want := []string{"127.0.0.1/32", "10.0.0.0/8", "2001:db8::/32"}
	if err != nil || strings.Join(got.Prefixes, " ") != strings.Join(want, " ") || got.Caller != "127.0.0.1" {
		t.Fatalf("UpdateAllowList = %+v, %v; want %q", got, err, want)
	}
	if now, _ := os.ReadFile(e.allowPath); !strings.Contains(string(now), "\n10.0.0.0/8\n") {
		t.Errorf("allow-list file %q, want the new list", now)
	}
}
