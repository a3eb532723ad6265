package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/access"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/stack"
)

// admStatus fails the test unless res has the status.
func admStatus(t *testing.T, res *http.Response, body string, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", res.Request.Method, res.Request.URL, res.StatusCode, want, body)
	}
}

// admLacks fails the test if body holds any of texts.
func admLacks(t *testing.T, body string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if strings.Contains(body, s) {
			t.Fatalf("page has %q:\n%s", s, body)
		}
	}
}

func admDefaultCA(t *testing.T, s *site) *inventory.CA {
	t.Helper()
	c, err := s.stack.Store.DefaultCA(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// admIDIn returns the number after prefix in path ("/issuers/7" -> 7).
func admIDIn(t *testing.T, path, prefix string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(strings.TrimPrefix(path, prefix), 10, 64)
	if err != nil || !strings.HasPrefix(path, prefix) {
		t.Fatalf("path %q: want %sID", path, prefix)
	}
	return id
}

func TestAdminScreensEmpty(t *testing.T) {
	s := newSite(t)
	b := s.signIn("ada")
	caID := admDefaultCA(t, s).ID
	for path, texts := range map[string][]string{
		"/vendor-accounts":     {"No vendor accounts yet.", "New vendor account"},
		"/vendor-accounts/new": {"There is no vendor issuer yet", `name="csrf"`},
		"/issuers":             {"builtin-ca", "Add an issuer"},
		"/issuers/select":      {"Find products"},
		"/ca":                  {"Private CA", "default", "active"},
		"/ca/" + strconv.FormatInt(caID, 10): {"Revocation list", "CRL number", "Installer (zip)", "Issue a certificate",
			"Certificates issued by this CA"},
		"/audit":                  {"Audit log"},
		"/audit?since=2999-01-01": {"No events since 2999-01-01."},
		"/settings":               {"Administrator e-mail", "STARTTLS", "Send test e-mail", "none stored"},
		"/settings/emails":        {"No e-mail sent yet."},
		"/settings/users":         {"ada", "bob", "Create user"},
	} {
		res, body := b.get(path)
		admStatus(t, res, body, http.StatusOK)
		mustContain(t, body, texts...)
		admLacks(t, body, "style=", "onclick", "<script>", adaPassword, bobPassword)
	}
	// The selector over the built-in CA's product.
	res, body := b.get("/issuers/select?validation_level=EV")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "No product meets these requirements.")
}

func TestAdminPagesRefuseUsers(t *testing.T) {
	s := newSite(t)
	caID := strconv.FormatInt(admDefaultCA(t, s).ID, 10)
	// Data for the shared pages. (Browsers share the test server's HTTP
	// client and so its cookie jar: one signed-in browser at a time.)
	ada := s.signIn("ada")
	res, body := ada.post("/issuers", url.Values{"name": {"Vendor X"}, "kind": {"manual-vendor"}})
	admStatus(t, res, body, http.StatusOK)
	issuerPath := res.Request.URL.Path

	bob := s.signIn("bob")
	for _, path := range []string{"/settings", "/settings/emails", "/settings/allowlist", "/settings/users",
		"/vendor-accounts/new", "/vendor-accounts/1/edit"} {
		res, body := bob.get(path)
		admStatus(t, res, body, http.StatusForbidden)
		mustContain(t, body, "This page needs the admin role.")
	}
	for _, path := range []string{"/settings", "/settings/test-email", "/settings/allowlist", "/settings/users",
		"/settings/users/1/reset-password", "/settings/users/1/role", "/settings/users/1/disable", "/vendor-accounts",
		"/issuers", "/issuers/1/products", "/ca/" + caID + "/issue"} {
		res, body := bob.post(path, url.Values{"admin_email": {"x@example.com"}, "username": {"mallory"}, "dns_names": {"a.example"}})
		admStatus(t, res, body, http.StatusForbidden)
	}
	// Shared pages: readable, without the admin forms and links.
	for path, texts := range map[string][]string{
		"/vendor-accounts": {"No vendor accounts yet."},
		"/issuers":         {"Vendor X"},
		issuerPath:         {"Vendor X", "This issuer has no products yet.", "No vendor account for this issuer."},
		"/ca/" + caID:      {"Revocation list", "Installer (zip)"},
		"/audit":           {"Audit log", "Vendor X"},
	} {
		res, body := bob.get(path)
		admStatus(t, res, body, http.StatusOK)
		mustContain(t, body, texts...)
		admLacks(t, body, "New vendor account", "Add an issuer", "Add a product", "Add one", "Issue a certificate",
			`href="/settings"`, "/edit\"")
	}
}

func TestAdminVendorAccounts(t *testing.T) {
	s := newSite(t)
	b := s.signIn("ada")
	res, body := b.post("/issuers", url.Values{"name": {"Acme Certs"}, "kind": {"manual-vendor"}, "url": {"https://acme-certs.example"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Issuer Acme Certs added.")
	issuerID := admIDIn(t, res.Request.URL.Path, "/issuers/")

	const secret = "hunter2-very-secret"
	// A refused form keeps the values and never echoes the password.
	res, body = b.post("/vendor-accounts", url.Values{"issuer_id": {strconv.FormatInt(issuerID, 10)}, "name": {"ops"},
		"password": {secret}, "email": {"not an address"}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "is not one plain address", `value="ops"`)
	admLacks(t, body, secret)

	res, body = b.post("/vendor-accounts", url.Values{"issuer_id": {strconv.FormatInt(issuerID, 10)}, "name": {"ops"},
		"username": {"ops@corp"}, "password": {secret}, "email": {"pki@example.com"}, "notes": {"the team login"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Vendor account ops added.", "ops@corp", "stored", "Acme Certs", "pki@example.com")
	admLacks(t, body, secret, "No vendor accounts yet.")
	m := regexp.MustCompile(`href="/vendor-accounts/(\d+)/edit"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no edit link:\n%s", body)
	}
	edit := "/vendor-accounts/" + m[1]

	res, body = b.get(edit + "/edit")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, `placeholder="unchanged"`, "one is stored", "ops@corp", "Remove the stored password")
	admLacks(t, body, secret)

	// A blank password keeps the stored one.
	res, body = b.post(edit, url.Values{"username": {"ops2"}, "password": {""}, "email": {"pki@example.com"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Vendor account ops saved.", "ops2", "stored")
	a, err := s.stack.Store.GetVendorAccount(context.Background(), admIDIn(t, edit, "/vendor-accounts/"))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.SealedPassword) == 0 || a.Username != "ops2" {
		t.Fatalf("account after edit: %+v", a)
	}
	// Clearing removes it.
	res, body = b.post(edit, url.Values{"username": {"ops2"}, "clear_password": {"1"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Vendor account ops saved.", "none")
	res, body = b.get(edit + "/edit")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "none stored")

	// Users see the list, read only.
	bob := s.signIn("bob")
	res, body = bob.get("/vendor-accounts")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "ops2", "Acme Certs")
	admLacks(t, body, "/edit", secret)
}

func TestAdminIssuersAndSelector(t *testing.T) {
	s := newSite(t)
	b := s.signIn("ada")
	res, body := b.post("/issuers", url.Values{"name": {""}, "kind": {"manual-vendor"}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "issuer name is empty")

	res, body = b.post("/issuers", url.Values{"name": {"Globe SSL"}, "kind": {"manual-vendor"}})
	admStatus(t, res, body, http.StatusOK)
	issuer := res.Request.URL.Path
	res, body = b.post(issuer+"/products", url.Values{"name": {"Globe Wildcard OV"}, "validation_level": {"OV"},
		"wildcard": {"1"}, "max_names": {"x"}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "enter a whole number", `value="Globe Wildcard OV"`)
	res, body = b.post(issuer+"/products", url.Values{"name": {"Globe Wildcard OV"}, "validation_level": {"OV"},
		"wildcard": {"1"}, "max_names": {"25"}, "max_validity_days": {"398"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Product Globe Wildcard OV added.", "Globe Wildcard OV", "398")

	res, body = b.get("/issuers/select?validation_level=DV&wildcard=true&names=3&validity_days=365")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Globe Wildcard OV", "Globe SSL", `<option value="DV" selected>`)
	// Needs it cannot meet.
	res, body = b.get("/issuers/select?validation_level=EV")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "No product meets these requirements.")
	res, body = b.get("/issuers/select?names=40")
	admStatus(t, res, body, http.StatusOK)
	admLacks(t, body, "Globe Wildcard OV")
	// An htmx filter gets the results block alone.
	res, body = b.do("GET", "/issuers/select?validation_level=OV&wildcard=true", nil, "", "HX-Request", "true", "HX-Target", "results")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, `id="results"`, "Globe Wildcard OV")
	admLacks(t, body, "<html", "Find products")
	res, body = b.get("/issuers/select?names=many")
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "Number of names: enter a whole number")
}

func TestAdminCA(t *testing.T) {
	s := newSite(t)
	b := s.signIn("ada")
	c := admDefaultCA(t, s)
	caPath := "/ca/" + strconv.FormatInt(c.ID, 10)

	res, body := b.post(caPath+"/issue", url.Values{"common_name": {""}, "dns_names": {""}, "profile": {"tls-server"}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "give at least one DNS name or IP address")

	res, body = b.post(caPath+"/issue", url.Values{"dns_names": {"app.internal.test\nwww.internal.test"},
		"ip_addresses": {"10.1.2.3"}, "profile": {"tls-server"}, "validity_days": {"30"}, "key_type": {"ecdsa-p256"}})
	id := admIDIn(t, res.Request.URL.Path, "/certificates/")
	cert, err := s.stack.Store.GetCertificate(context.Background(), id)
	if err != nil {
		t.Fatalf("issued certificate %d: %v (page %d)\n%s", id, err, res.StatusCode, body)
	}
	if !strings.Contains(cert.Subject, "app.internal.test") {
		t.Fatalf("issued certificate subject %q", cert.Subject)
	}

	// Downloads.
	res, body = b.get(caPath + "/installer")
	admStatus(t, res, body, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "application/zip" {
		t.Fatalf("installer content type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, ".zip") {
		t.Fatalf("installer disposition %q", cd)
	}
	zr, err := zip.NewReader(bytes.NewReader([]byte(body)), int64(len(body)))
	if err != nil || len(zr.File) == 0 {
		t.Fatalf("installer is not a zip: %v", err)
	}
	res, body = b.get(caPath + "/certificate?format=pem")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "-----BEGIN CERTIFICATE-----")
	if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Fatalf("PEM disposition %q", cd)
	}
	res, body = b.get(caPath + "/certificate?format=der")
	admStatus(t, res, body, http.StatusOK)
	if len(body) == 0 || body[0] != 0x30 {
		t.Fatal("DER download is not DER")
	}
	res, body = b.get(caPath + "/certificate?format=jks")
	admStatus(t, res, body, http.StatusNotFound)
	res, body = b.get("/ca/999999")
	admStatus(t, res, body, http.StatusNotFound)

	// Users may download too, but not issue.
	bob := s.signIn("bob")
	res, body = bob.get(caPath + "/installer")
	admStatus(t, res, body, http.StatusOK)
}

func TestAdminAudit(t *testing.T) {
	s := newSite(t)
	b := s.signIn("ada")
	res, body := b.post("/issuers", url.Values{"name": {"First Vendor"}, "kind": {"manual-vendor"}})
	admStatus(t, res, body, http.StatusOK)
	res, body = b.post("/issuers", url.Values{"name": {"Second Vendor"}, "kind": {"acme"}})
	admStatus(t, res, body, http.StatusOK)
	res, body = b.post("/settings", url.Values{"admin_email": {"pki@example.com"}, "smtp_security": {"starttls"}})
	admStatus(t, res, body, http.StatusOK)

	res, body = b.get("/audit")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "First Vendor", "Second Vendor", "ada")
	if strings.Index(body, "Second Vendor") > strings.Index(body, "First Vendor") {
		t.Fatalf("audit log is not newest first:\n%s", body)
	}
	res, body = b.get("/audit?since=2000-01-01")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "First Vendor")
	res, body = b.get("/audit?since=yesterday")
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "enter a date as YYYY-MM-DD")

	// Pages: more events than a page holds.
	ctx := context.Background()
	for i := range 60 {
		if err := s.stack.Store.AppendAudit(ctx, &inventory.AuditEvent{Actor: "test", Action: "test.event",
			Object: "thing:" + strconv.Itoa(i), Summary: "event " + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	res, body = b.get("/audit")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "event 59", "Next page")
	admLacks(t, body, "First Vendor", "event 5<")
	next := regexp.MustCompile(`href="(/audit\?after=[^"]+)" rel="next"`).FindStringSubmatch(body)
	if next == nil {
		t.Fatalf("no next link:\n%s", body)
	}
	res, body = b.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "event 9<", "First Vendor", "First page")
	admLacks(t, body, "event 59", "Next page")
	// htmx filter: the results block only.
	res, body = b.do("GET", "/audit?since=2000-01-01", nil, "", "HX-Request", "true", "HX-Target", "results")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, `id="results"`, "event 59")
	admLacks(t, body, "<html")
}

func TestAdminSettingsRefusesBadEmail(t *testing.T) {
	s := newSite(t)
	b := s.signIn("ada")
	res, body := b.post("/settings", url.Values{"admin_email": {"pki@example.com"}, "external_url": {"https://ck.example.com"},
		"smtp_host": {"smtp.example.com:587"}, "smtp_security": {"starttls"}, "smtp_username": {"mailer"},
		"smtp_password": {"smtp-secret-pw"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Settings saved.", "pki@example.com", "smtp.example.com:587", "one is stored", `placeholder="unchanged"`)
	admLacks(t, body, "smtp-secret-pw")

	res, body = b.post("/settings", url.Values{"admin_email": {"not an e-mail"}, "external_url": {"https://other.example.com"},
		"smtp_host": {"smtp.other.example:25"}, "smtp_security": {"none"}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, `class="field-error" id="admin_email-error"`, `value="not an e-mail"`, `value="https://other.example.com"`)
	got, err := s.stack.Settings.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.AdminEmail != "pki@example.com" || got.ExternalURL != "https://ck.example.com" || got.SMTP.Host != "smtp.example.com:587" ||
		!got.SMTP.PasswordSet {
		t.Fatalf("a refused update changed the settings: %+v", got)
	}
	// Clearing the password.
	res, body = b.post("/settings", url.Values{"admin_email": {"pki@example.com"}, "smtp_host": {"smtp.example.com:587"},
		"smtp_security": {"starttls"}, "clear_smtp_password": {"1"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "none stored")
}

func TestAdminTestEmail(t *testing.T) {
	mailSrv := newAdmSMTP(t)
	s := newSiteWith(t, func(cfg *stack.Config, _ inventory.Store) { cfg.MailRoots = mailSrv.Roots })
	b := s.signIn("ada")

	// Not set up: the API's reason.
	res, body := b.post("/settings/test-email", nil)
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Test e-mail not sent:")

	res, body = b.post("/settings", url.Values{"admin_email": {"pki@example.com"}, "smtp_host": {mailSrv.Addr},
		"smtp_security": {"starttls"}, "smtp_from": {"certkeeper@example.com"}})
	admStatus(t, res, body, http.StatusOK)
	res, body = b.post("/settings/test-email", url.Values{"to": {"ops@example.com"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Test e-mail sent to ops@example.com.")
	msgs := mailSrv.messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "ops@example.com" {
		t.Fatalf("SMTP server received %+v", msgs)
	}

	// A failure: nothing listens there any more.
	res, body = b.post("/settings", url.Values{"admin_email": {"pki@example.com"}, "smtp_host": {"127.0.0.1:1"},
		"smtp_security": {"none"}})
	admStatus(t, res, body, http.StatusOK)
	res, body = b.post("/settings/test-email", nil)
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "Test e-mail not sent:")

	res, body = b.get("/settings/emails")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "ops@example.com", `badge sent`, `badge failed`, "pki@example.com", "test")
	if strings.Index(body, "badge failed") > strings.Index(body, "badge sent") {
		t.Fatalf("sent e-mails are not newest first:\n%s", body)
	}
}

func TestAdminUsers(t *testing.T) {
	s := newSite(t)
	b := s.signIn("ada")
	res, body := b.post("/settings/users", url.Values{"username": {"carol"}, "role": {"user"}})
	admStatus(t, res, body, http.StatusOK)
	m := regexp.MustCompile(`<code id="one-time-password" class="secret-value">([^<]+)</code>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no one-time password:\n%s", body)
	}
	pw := m[1]
	mustContain(t, body, "One-time password of <strong>carol</strong>")
	res, body = b.get("/settings/users")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "carol", "must change password")
	admLacks(t, body, pw, "One-time password")

	// The password works, once.
	carol := s.browser()
	res, body = carol.post("/login", url.Values{"username": {"carol"}, "password": {pw}})
	if res.Request.URL.Path != "/account/password" {
		t.Fatalf("carol's sign-in ended at %s\n%s", res.Request.URL.Path, body)
	}
	b = s.signIn("ada") // the browsers share one cookie jar

	res, body = b.post("/settings/users", url.Values{"username": {"carol"}, "role": {"user"}})
	if res.StatusCode != http.StatusUnprocessableEntity && res.StatusCode != http.StatusConflict {
		t.Fatalf("duplicate user: %d\n%s", res.StatusCode, body)
	}

	u, err := s.stack.Store.UserByName(context.Background(), "carol")
	if err != nil {
		t.Fatal(err)
	}
	base := "/settings/users/" + strconv.FormatInt(u.ID, 10)
	res, body = b.post(base+"/reset-password", nil)
	admStatus(t, res, body, http.StatusOK)
	m2 := regexp.MustCompile(`<code id="one-time-password" class="secret-value">([^<]+)</code>`).FindStringSubmatch(body)
	if m2 == nil || m2[1] == pw {
		t.Fatalf("no new one-time password:\n%s", body)
	}
	res, body = b.post(base+"/role", url.Values{"role": {"admin"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "User carol is now admin.")
	res, body = b.post(base+"/disable", nil)
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "User carol disabled.", "badge bad")
	res, body = b.post(base+"/enable", nil)
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "User carol enabled.")
	mustContain(t, body, `data-confirm="Disable carol?`)

	res, body = b.get("/audit")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "carol")
	admLacks(t, body, pw, m2[1])
}

func TestAdminAllowList(t *testing.T) {
	file := filepath.Join(t.TempDir(), "allowlist.txt")
	s := newSiteWith(t, func(cfg *stack.Config, st inventory.Store) {
		l, err := access.Open(file, st, cfg.Log)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Access = l
	})
	b := s.signIn("ada")
	res, body := b.get("/settings/allowlist")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "You are connecting from", "127.0.0.1", "127.0.0.0/8")
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}

	res, body = b.post("/settings/allowlist", url.Values{"prefixes": {"10.0.0.0/8\n192.168.0.0/16"}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "would lock you out", "10.0.0.0/8\n192.168.0.0/16")
	after, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatal("a refused allow-list changed the file")
	}
	res, body = b.post("/settings/allowlist", url.Values{"prefixes": {"not-a-prefix"}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "not-a-prefix")

	res, body = b.post("/settings/allowlist", url.Values{"prefixes": {"# loopback\n127.0.0.1\n10.0.0.0/8\n"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "IP allow-list saved: 2 entries.", "127.0.0.1/32", "10.0.0.0/8")
	res, body = b.get("/audit")
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "allowlist.update")
}
