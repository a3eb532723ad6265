package web_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/api"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// wellFormed fails the test unless body parses as HTML and carries no
// inline script, inline style or event handler attribute (the CSP forbids
// them).
func wellFormed(t *testing.T, body string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("HTML does not parse: %v", err)
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
					t.Fatalf("<%s> has a %s attribute, which the CSP forbids", n.Data, a.Key)
				}
			}
			if n.Data == "script" {
				src := false
				for _, a := range n.Attr {
					src = src || a.Key == "src"
				}
				if !src {
					t.Fatalf("inline <script> in page")
				}
			}
			if n.Data == "style" {
				t.Fatalf("inline <style> in page")
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	// Every id is unique and every labelled control exists.
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		if ids[m[1]] {
			t.Fatalf("id %q appears twice", m[1])
		}
		ids[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`<label for="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		if !ids[m[1]] {
			t.Fatalf("label for %q names no element", m[1])
		}
	}
}

// page fetches path, wants status and a well-formed page, and returns
// the body.
func (b *browser) page(path string, status int, texts ...string) string {
	b.t.Helper()
	res, body := b.get(path)
	if res.StatusCode != status {
		b.t.Fatalf("GET %s: status %d, want %d\n%s", path, res.StatusCode, status, body)
	}
	wellFormed(b.t, body)
	mustContain(b.t, body, texts...)
	return body
}

// submit posts form to path and wants to land on a page at a path
// matching landing with status 200; it returns the final path and body.
func (b *browser) submit(path string, form url.Values, landing string) (string, string) {
	b.t.Helper()
	res, body := b.post(path, form)
	if res.StatusCode != http.StatusOK || !regexp.MustCompile("^"+landing+"$").MatchString(res.Request.URL.Path) {
		b.t.Fatalf("POST %s: status %d at %s, want 200 at %s\n%s", path, res.StatusCode, res.Request.URL.Path, landing, body)
	}
	wellFormed(b.t, body)
	return res.Request.URL.Path, body
}

// multipart posts a multipart form (fields and files by field name) with
// the anti-forgery token.
func (b *browser) multipart(path string, fields map[string]string, files map[string][]byte) (*http.Response, string) {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", b.csrf())
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	for k, v := range files {
		fw, err := mw.CreateFormFile(k, k+".bin")
		if err != nil {
			b.t.Fatal(err)
		}
		_, _ = fw.Write(v)
	}
	_ = mw.Close()
	return b.do("POST", path, &buf, mw.FormDataContentType())
}

// idAt returns the trailing number of path.
func idAt(t *testing.T, path string) string {
	t.Helper()
	m := regexp.MustCompile(`/(\d+)$`).FindStringSubmatch(path)
	if m == nil {
		t.Fatalf("no id at the end of %s", path)
	}
	return m[1]
}

// newDefinition creates a definition through the form and returns its
// path.
func (b *browser) newDefinition(name string, extra url.Values) string {
	b.t.Helper()
	form := url.Values{"name": {name}, "sans": {name + ".example.com\nwww." + name + ".example.com"},
		"key_type": {"ecdsa-p256"}, "renewal_days": {"30"}, "labels": {"web, team-a"}}
	for k, v := range extra {
		form[k] = v
	}
	p, body := b.submit("/definitions", form, `/definitions/\d+`)
	mustContain(b.t, body, "Definition "+name+" created", name+".example.com")
	return p
}

// adminAPI returns an in-process API client acting as ada, for setting up
// what the lifecycle screens do not do themselves.
func (s *site) adminAPI() (context.Context, *client.Client) {
	s.t.Helper()
	u, err := s.stack.Users.Authenticate(context.Background(), "ada", adaPassword)
	if err != nil {
		s.t.Fatal(err)
	}
	c, err := client.New("http://certkeeper.invalid", "", client.WithHTTPClient(&http.Client{Transport: api.Transport(s.stack.API.Handler())}))
	if err != nil {
		s.t.Fatal(err)
	}
	return api.WithUser(context.Background(), u), c
}

// signInOwn signs in like signIn, with a browser of its own: httptest's
// Server.Client returns one shared *http.Client, so browsers made by
// signIn share the cookie jar of whoever signed in last.
func (s *site) signInOwn(username string) *browser {
	b := s.signIn(username)
	b.hc = &http.Client{Transport: b.hc.Transport, Jar: b.hc.Jar, Timeout: b.hc.Timeout}
	return b
}

func TestLifecycleEmptyScreens(t *testing.T) {
	s := newSite(t)
	ada := s.signInOwn("ada")
	ada.page("/", 200, "Dashboard", `role="img"`, "no certificate expires", "No definition expires within 60 days",
		"No open process has been waiting")
	ada.page("/definitions", 200, `<p class="empty">No certificate definitions yet`)
	ada.page("/acquisitions", 200, `<p class="empty">No acquisition is under way`)
	ada.page("/acquisitions?state=all", 200, `<p class="empty">No processes match`)
	ada.page("/requests", 200, `<p class="empty">No open requests`)
	ada.page("/certificates?ca=false", 200, `<p class="empty">No certificates match`)
	ada.page("/keys", 200, "Private keys")
	ada.page("/definitions/new", 200, `name="name"`, `value="ecdsa-p256" selected`)
	ada.page("/definitions/999", 404, "no definition")
	ada.page("/definitions/abc", 404)
	ada.page("/acquisitions/999", 404)
	ada.page("/certificates/999", 404)
	ada.page("/keys/999", 404)
}

func TestLifecycleBuiltinCA(t *testing.T) {
	s := newSite(t)
	ada, bob := s.signInOwn("ada"), s.signInOwn("bob")

	// A form with a bad field comes back with the field's error, keeps
	// what was typed and stores nothing.
	res, body := ada.post("/definitions", url.Values{"name": {"bad name!"}, "sans": {"bad.example.com"}, "renewal_days": {"30"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad name: status %d\n%s", res.StatusCode, body)
	}
	wellFormed(t, body)
	mustContain(t, body, `class="field-error" id="e-name"`, "use 1 to 128 letters", ">bad.example.com</textarea>")
	res, body = ada.post("/definitions", url.Values{"name": {"fine"}, "sans": {"fine.example.com"}, "renewal_days": {"soon"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad number: status %d\n%s", res.StatusCode, body)
	}
	mustContain(t, body, `id="e-renewal"`, "not a whole number")
	ada.page("/definitions", 200, "No certificate definitions yet")

	// Create, acquire (without auto-switch), issue, switch.
	defPath := ada.newDefinition("shop", url.Values{"validity_days": {"20"}})
	defID := idAt(t, defPath)
	ada.page(defPath, 200, "Acquire certificate", "No acquisition yet", "No documents")
	res, body = ada.post(defPath+"/acquire", url.Values{})
	if res.StatusCode != 200 || res.Request.URL.Path != defPath+"/acquire" {
		t.Fatalf("acquire: %d at %s\n%s", res.StatusCode, res.Request.URL.Path, body)
	}
	wellFormed(t, body)
	mustContain(t, body, "Choose a product", `name="product" value="" checked`, "Let certkeeper choose: the default CA")
	acqPath, body := ada.submit(defPath+"/acquire", url.Values{"product": {""}}, `/acquisitions/\d+`)
	mustContain(t, body, "started (new)", "Issue from the built-in CA", "csr_created", "Download the CSR")
	acqID := idAt(t, acqPath)
	ada.page("/acquisitions", 200, "#"+acqID, "csr_ready")
	ada.page("/requests", 200, "#"+acqID, "not ordered")
	res, csr := ada.get(acqPath + "/csr")
	if res.StatusCode != 200 || !strings.Contains(csr, "CERTIFICATE REQUEST") ||
		!strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("CSR download: %d %q\n%s", res.StatusCode, res.Header.Get("Content-Disposition"), csr)
	}
	// A second start is refused with the reason, on the definition page.
	res, body = ada.post(defPath+"/acquire", url.Values{"product": {""}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "open process") {
		t.Fatalf("second start: %d\n%s", res.StatusCode, body)
	}
	_, body = ada.submit(acqPath+"/issue", url.Values{}, acqPath)
	mustContain(t, body, "issued, valid until", "Switch to the new certificate")
	_, body = ada.submit(acqPath+"/switch", url.Values{}, acqPath)
	mustContain(t, body, "is now the current certificate of shop", `badge completed`)
	certID := regexp.MustCompile(`href="/certificates/(\d+)"`).FindStringSubmatch(body)[1]
	certPath := "/certificates/" + certID

	// The lists and the dashboard show it.
	ada.page("/acquisitions", 200, "No acquisition is under way")
	ada.page("/acquisitions?state=completed", 200, "#"+acqID)
	ada.page("/definitions", 200, "shop", "19 days left", "shop.example.com")
	ada.page(defPath, 200, certPath, "current", "Renew", "#"+acqID)
	dash := ada.page("/", 200, `class="bar near"`, "1 certificate</title>", "within 30 days", `href="/definitions/`+defID+`"`)
	if strings.Contains(dash, "no certificate expires") {
		t.Fatalf("dashboard shows no expiry:\n%s", dash)
	}

	// Filters: full pages and the htmx results block.
	ada.page("/definitions?q=shop", 200, "shop.example.com")
	ada.page("/definitions?q=nothing", 200, "No definitions match")
	ada.page("/definitions?label=team-a", 200, "shop.example.com")
	ada.page("/certificates?status=valid&ca=false", 200, "shop.example.com")
	ada.page("/certificates?expiring_within=30&q=shop", 200, "shop.example.com")
	ada.page("/certificates?status=expired", 200, "No certificates match")
	ada.page("/certificates?ca=true", 200, "CA</span>")
	res, body = ada.do("GET", "/certificates?q=shop", nil, "", "HX-Request", "true", "HX-Target", "results")
	if res.StatusCode != 200 || strings.Contains(body, "<html") || !strings.Contains(body, "shop.example.com") {
		t.Fatalf("htmx results: %d\n%s", res.StatusCode, body)
	}

	// The certificate page and its downloads.
	body = ada.page(certPath, 200, "SHA-256", "SHA-1", "Export", "Revoke", "(this certificate)", "www.shop.example.com")
	if !regexp.MustCompile(`([0-9A-F]{2}:){31}[0-9A-F]{2}`).MatchString(body) {
		t.Fatalf("no colon-separated SHA-256 fingerprint:\n%s", body)
	}
	res, pemText := ada.get(certPath + "/download?format=pem")
	blk, _ := pem.Decode([]byte(pemText))
	if res.StatusCode != 200 || blk == nil {
		t.Fatalf("PEM download: %d\n%s", res.StatusCode, pemText)
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil || leaf.DNSNames[0] != "shop.example.com" {
		t.Fatalf("PEM download: %v %v", err, leaf)
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "certificate-"+certID+".pem") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	for _, f := range []string{"der", "p7b"} {
		if res, _ := ada.get(certPath + "/download?format=" + f); res.StatusCode != 200 {
			t.Fatalf("%s download: %d", f, res.StatusCode)
		}
	}
	if res, _ := ada.get(certPath + "/download?format=zip"); res.StatusCode != 400 {
		t.Fatalf("zip download: %d", res.StatusCode)
	}

	// Export with the key: short passwords refused, PFX opens.
	res, body = ada.post(certPath+"/export", url.Values{"format": {"pfx"}, "password": {"short"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "too short") {
		t.Fatalf("short password: %d\n%s", res.StatusCode, body)
	}
	res, body = ada.post(certPath+"/export", url.Values{"format": {"jks"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "needs a password") {
		t.Fatalf("no password: %d\n%s", res.StatusCode, body)
	}
	res, pfx := ada.post(certPath+"/export", url.Values{"format": {"pfx"}, "password": {"export-secret-1"}})
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), ".pfx") {
		t.Fatalf("PFX export: %d %v\n%s", res.StatusCode, res.Header, pfx)
	}
	openssl := testenv.Command(t, "openssl")
	f := filepath.Join(t.TempDir(), "export.pfx")
	if err := os.WriteFile(f, []byte(pfx), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "pkcs12", "-in", f, "-passin", "pass:export-secret-1", "-nodes").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PRIVATE KEY") || !strings.Contains(string(out), "shop.example.com") {
		t.Fatalf("openssl pkcs12: %v\n%s", err, out)
	}
	res, withKey := ada.post(certPath+"/export", url.Values{"format": {"pem"}})
	if res.StatusCode != 200 || !strings.Contains(withKey, "PRIVATE KEY") || !strings.Contains(withKey, "CERTIFICATE") {
		t.Fatalf("PEM with key: %d\n%s", res.StatusCode, withKey)
	}

	// bob sees the certificate without the admin forms and cannot export.
	body = bob.page(certPath, 200, "SHA-256", "PEM (with chain)")
	if strings.Contains(body, "/export") || strings.Contains(body, "/revoke") {
		t.Fatalf("bob sees admin actions:\n%s", body)
	}
	res, body = bob.post(certPath+"/export", url.Values{"format": {"pfx"}, "password": {"export-secret-1"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "<h1>Forbidden</h1>") {
		t.Fatalf("bob export: %d\n%s", res.StatusCode, body)
	}
	res, body = bob.post(certPath+"/revoke", url.Values{"reason": {"superseded"}})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("bob revoke: %d\n%s", res.StatusCode, body)
	}

	// Keys.
	body = ada.page(certPath, 200)
	keyID := regexp.MustCompile(`href="/keys/(\d+)"`).FindStringSubmatch(body)[1]
	ada.page("/keys", 200, `href="/keys/`+keyID+`"`, "ecdsa 256", "1 certificate, 1 acquisition")
	ada.page("/keys/"+keyID, 200, certPath, "#"+acqID)

	// Documents: upload, list, download, delete.
	res, body = ada.multipart(defPath+"/documents", map[string]string{"name": "order #1.txt"}, map[string][]byte{"document": []byte("approved by finance")})
	if res.StatusCode != 200 || !strings.Contains(body, "Document order #1.txt stored") {
		t.Fatalf("upload: %d\n%s", res.StatusCode, body)
	}
	wellFormed(t, body)
	docURL := defPath + "/documents/order%20%231.txt"
	mustContain(t, body, `href="`+docURL+`"`)
	res, doc := ada.get(docURL)
	if res.StatusCode != 200 || doc != "approved by finance" {
		t.Fatalf("document download: %d %q", res.StatusCode, doc)
	}
	res, body = ada.multipart(defPath+"/documents", nil, nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose a file") {
		t.Fatalf("empty upload: %d\n%s", res.StatusCode, body)
	}
	_, body = ada.submit(docURL+"/delete", url.Values{}, defPath)
	mustContain(t, body, "Document order #1.txt deleted", "No documents")

	// Edit, and a stale edit is refused with a clear message.
	edit := ada.page(defPath+"/edit", 200, `name="version"`)
	version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(edit)[1]
	form := url.Values{"version": {version}, "name": {"shop"}, "sans": {"shop.example.com"}, "key_type": {"ecdsa-p256"},
		"renewal_days": {"21"}, "notes": {"first edit"}}
	_, body = ada.submit(defPath+"/edit", form, defPath)
	mustContain(t, body, "Definition shop saved", "21 days before expiry", "first edit")
	form.Set("notes", "second edit")
	res, body = ada.post(defPath+"/edit", form)
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "Someone changed this definition") {
		t.Fatalf("stale edit: %d\n%s", res.StatusCode, body)
	}
	ada.page(defPath, 200, "first edit")

	// Clone, renew on the clone, cancel it.
	clonePath, body := ada.submit(defPath+"/clone", url.Values{"name": {"shop-copy"}}, `/definitions/\d+`)
	mustContain(t, body, "copied as shop-copy")
	res, body = ada.post(defPath+"/clone", url.Values{"name": {"shop-copy"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="e-clone"`) {
		t.Fatalf("clone to a taken name: %d\n%s", res.StatusCode, body)
	}
	acq2, _ := ada.submit(clonePath+"/acquire", url.Values{"auto_switch": {"1"}, "product": {""}}, `/acquisitions/\d+`)
	_, body = ada.submit(acq2+"/cancel", url.Values{"reason": {"not needed"}}, acq2)
	mustContain(t, body, "cancelled", "not needed")
	if strings.Contains(body, "Next steps") {
		t.Fatalf("cancelled process still offers actions:\n%s", body)
	}

	// Revoke as admin.
	_, body = ada.submit(certPath+"/revoke", url.Values{"reason": {"superseded"}}, certPath)
	mustContain(t, body, "revoked (superseded)", `badge revoked`)
	ada.page("/certificates?status=revoked", 200, "shop.example.com")
	ada.page("/", 200, `href="/certificates?status=revoked"><span class="n">1</span>`)
}

// TestLifecycleVendor runs a process at a vendor: the product choice,
// the order and the upload of the certificate the vendor signed.
func TestLifecycleVendor(t *testing.T) {
	s := newSite(t)
	ctx := context.Background()
	if _, err := s.stack.Catalogue.AddIssuer(ctx, "test", inventory.Issuer{Name: "acme-vendor", Kind: inventory.IssuerManualVendor}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.stack.Catalogue.AddProduct(ctx, "test", "acme-vendor", inventory.Product{Name: "Basic DV", ValidationLevel: "DV"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.stack.Catalogue.AddProduct(ctx, "test", "acme-vendor", inventory.Product{Name: "Business OV", ValidationLevel: "OV"}); err != nil {
		t.Fatal(err)
	}
	vendor := testenv.NewOpenSSLCA(t, "Vendor")
	actx, admin := s.adminAPI()
	imported, err := admin.ImportCertificates(actx, client.CertificateImport{Data: vendor.Read("root.pem")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AddTrustRoot(actx, imported.Certificates[0].ID); err != nil { // importing alone trusts nothing
		t.Fatal(err)
	}
	ada := s.signInOwn("ada")
	defPath := ada.newDefinition("api", nil)

	// Several products fit: the choice comes first.
	res, body := ada.post(defPath+"/acquire", url.Values{"auto_switch": {"1"}})
	if res.StatusCode != 200 || res.Request.URL.Path != defPath+"/acquire" {
		t.Fatalf("acquire: %d at %s\n%s", res.StatusCode, res.Request.URL.Path, body)
	}
	wellFormed(t, body)
	mustContain(t, body, "Choose a product", "acme-vendor", "Basic DV")
	choice := regexp.MustCompile(`value="(\d+:\d+)"> acme-vendor \(manual-vendor\): Basic DV`).FindStringSubmatch(body)
	if choice == nil {
		t.Fatalf("no vendor choice:\n%s", body)
	}
	acqPath, body := ada.submit(defPath+"/acquire", url.Values{"product": {choice[1]}, "auto_switch": {"1"}}, `/acquisitions/\d+`)
	mustContain(t, body, "Record the order", "Upload the certificate", "acme-vendor")

	// A bad order date re-renders with the field error.
	res, body = ada.post(acqPath+"/order", url.Values{"number": {"PO-7"}, "date": {"yesterday"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "want a date") || !strings.Contains(body, `value="PO-7"`) {
		t.Fatalf("bad date: %d\n%s", res.StatusCode, body)
	}
	_, body = ada.submit(acqPath+"/order", url.Values{"number": {"PO-7"}, "date": {"2026-01-15"}, "notes": {"card"}}, acqPath)
	mustContain(t, body, "Order PO-7 recorded", "badge ordered", "2026-01-15")
	ada.page("/requests", 200, "PO-7", "ordered")

	// The vendor signs the request; a file that is not a certificate is
	// refused first.
	_, csr := ada.get(acqPath + "/csr")
	res, body = ada.multipart(acqPath+"/certificate", nil, map[string][]byte{"file": []byte("not a certificate")})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("junk upload: %d\n%s", res.StatusCode, body)
	}
	wellFormed(t, body)
	vendor.Sign("api", []byte(csr), "serverAuth", "DNS:api.example.com")
	res, body = ada.multipart(acqPath+"/certificate", nil, map[string][]byte{"file": vendor.P7B("api")})
	if res.StatusCode != 200 {
		t.Fatalf("upload: %d\n%s", res.StatusCode, body)
	}
	wellFormed(t, body)
	mustContain(t, body, "accepted, valid until", "names differ", "www.api.example.com", "badge completed")
	certID := regexp.MustCompile(`href="/certificates/(\d+)"`).FindStringSubmatch(body)[1]
	ada.page("/certificates/"+certID, 200, "Vendor Issuing CA")
	ada.page(defPath, 200, "/certificates/"+certID)
	if _, err := strconv.Atoi(certID); err != nil {
		t.Fatal(err)
	}
}
