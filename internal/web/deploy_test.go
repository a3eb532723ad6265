package web_test

import (
	"crypto/ed25519"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// testHostKey is an SSH host key in authorized_keys form (nothing
// listens with it).
const testHostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEZ3uSt8MmrWAoiduxIzttfXVjSWy3Osrje2JflwX0vl"

// issueCertificate issues a certificate for name from the built-in CA
// through the definition and acquisition screens, and returns its
// number.
func (b *browser) issueCertificate(name string) string {
	b.t.Helper()
	defPath := b.newDefinition(name, nil)
	acqPath, _ := b.submit(defPath+"/acquire", url.Values{"product": {""}}, `/acquisitions/\d+`)
	b.submit(acqPath+"/issue", url.Values{}, acqPath)
	_, body := b.submit(acqPath+"/switch", url.Values{}, acqPath)
	m := regexp.MustCompile(`href="/certificates/(\d+)"`).FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("no certificate link after the switch:\n%s", body)
	}
	return m[1]
}

// newTarget creates a target through the form and returns its path.
func (b *browser) newTarget(form url.Values) string {
	b.t.Helper()
	p, body := b.submit("/targets", form, `/targets/\d+`)
	mustContain(b.t, body, "Target "+form.Get("name")+" created")
	return p
}

// wantStatus fails the test unless res has status.
func wantStatus(t *testing.T, what string, res *http.Response, body string, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, res.StatusCode, status, body)
	}
}

func TestDeployEmptyScreens(t *testing.T) {
	s := newSite(t)
	ada, bob := s.signInOwn("ada"), s.signInOwn("bob")
	ada.page("/targets", 200, `<p class="empty">No targets yet`, `href="/targets/new"`, `href="/deployments"`)
	ada.page("/deployments", 200, "Ongoing processes", "No deployment is under way",
		"Current certificates whose last check failed", "No current certificate failed its last check")
	ada.page("/deployments?state=all", 200, "No processes match")
	ada.page("/deployments?state=confirmed&target=7", 200, "No processes match")
	ada.page("/targets/new", 200, `name="name"`, `value="generic"`, `name="directory"`, `name="ssh_password"`,
		`name="agent_id"`, `name="admin_email"`, `name="check_host"`, `name="rollback_on_failure" value="1" checked`,
		`hx-get="/targets/preset"`, "No agent is enrolled yet")
	ada.page("/targets/999", 404)
	ada.page("/targets/abc", 404)
	ada.page("/deployments/999", 404)

	// The preset block for the chosen preset, as htmx swaps it in.
	res, body := ada.do("GET", "/targets/preset?preset=nginx", nil, "", "HX-Request", "true", "HX-Target", "preset-block")
	if res.StatusCode != 200 || strings.Contains(body, "<html") || !strings.Contains(body, `value="nginx -t"`) ||
		!strings.Contains(body, "fullchain.pem") {
		t.Fatalf("preset block: %d\n%s", res.StatusCode, body)
	}
	// The filters' htmx results block.
	res, body = ada.do("GET", "/deployments?state=all", nil, "", "HX-Request", "true", "HX-Target", "results")
	if res.StatusCode != 200 || strings.Contains(body, "<html") || !strings.Contains(body, "No processes match") {
		t.Fatalf("htmx results: %d\n%s", res.StatusCode, body)
	}

	body = bob.page("/targets", 200, "No targets yet", "admins add them")
	if strings.Contains(body, `href="/targets/new"`) {
		t.Fatalf("bob is offered the target form:\n%s", body)
	}
	bob.page("/targets/new", 403, "needs the admin role")
	bob.page("/deployments", 200, "No deployment is under way")
}

func TestDeployDirectory(t *testing.T) {
	s := newSite(t)
	ada, bob := s.signInOwn("ada"), s.signInOwn("bob")
	certID := ada.issueCertificate("shop")
	certPath := "/certificates/" + certID
	ada.page(certPath, 200, "No target yet", `href="/targets/new"`)
	ada.page("/definitions", 200, "not deployed")

	// A relative directory is refused next to the field, with what was
	// typed kept; nothing is stored.
	dir := filepath.Join(t.TempDir(), "tls")
	form := url.Values{"name": {"web1"}, "preset": {"generic"}, "method": {"directory"}, "directory": {"relative/tls"},
		"rollback_shown": {"1"}, "rollback_on_failure": {"1"}}
	res, body := ada.post("/targets", form)
	wantStatus(t, "relative directory", res, body, http.StatusUnprocessableEntity)
	wellFormed(t, body)
	mustContain(t, body, `class="field-error"`, `value="relative/tls"`, `aria-invalid="true"`)
	ada.page("/targets", 200, "No targets yet")

	form.Set("directory", dir)
	targetPath := ada.newTarget(form)
	targetID := idAt(t, targetPath)
	ada.page(targetPath, 200, "generic", dir, "not checked from here", "cert.pem", "privkey.pem", "Nothing deployed to web1 yet")
	ada.page("/targets", 200, `href="`+targetPath+`"`, "web1", "generic", "directory", dir, "none")

	// Deploy from the certificate's page, install.
	ada.page(certPath, 200, "Deploy to…", `<option value="`+targetID+`">web1 (directory, generic)</option>`)
	depPath, body := ada.submit("/deployments", url.Values{"certificate_id": {certID}, "target_id": {targetID}}, `/deployments/\d+`)
	depID := idAt(t, depPath)
	ada.page("/definitions", 200, `href="/deployments?certificate=`+certID+`"`, "0/1 confirmed", "1 ongoing")
	mustContain(t, body, "Deployment #"+depID+" of certificate #"+certID+" to web1 prepared", `badge prepared`,
		`action="`+depPath+`/install"`, `hx-indicator="#install-status"`, "Installing…", "Not checked yet", "prepared")
	ada.page("/deployments", 200, `href="`+depPath+`"`, "prepared", "web1")

	_, body = ada.submit(depPath+"/install", url.Values{}, depPath)
	mustContain(t, body, "Install of deployment #"+depID+" done", "Attempts</dt><dd>1</dd>", "installed")
	if !regexp.MustCompile(`<h1>Deployment #\d+ <span class="badge (installed|confirmed)">`).MatchString(body) {
		t.Fatalf("the deployment is not installed:\n%s", body)
	}
	for _, name := range []string{"cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(data) == 0 {
			t.Fatalf("%s after the install: %v (%d bytes)", name, err, len(data))
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "privkey.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("privkey.pem: %v, mode %v, want 0600", err, fi.Mode())
	}
	if cert, _ := os.ReadFile(filepath.Join(dir, "cert.pem")); !strings.Contains(string(cert), "BEGIN CERTIFICATE") {
		t.Fatalf("cert.pem holds no certificate:\n%s", cert)
	}

	// Continue without checking needs a reason.
	res, body = ada.post(depPath+"/continue", url.Values{"reason": {"  "}})
	wantStatus(t, "continue without a reason", res, body, http.StatusUnprocessableEntity)
	wellFormed(t, body)
	mustContain(t, body, `id="e-c-reason"`, "a reason is required")
	body = ada.page(depPath, 200)
	if strings.Contains(body, `action="`+depPath+`/continue"`) {
		_, body = ada.submit(depPath+"/continue", url.Values{"reason": {"checked in the browser by hand"}}, depPath)
		mustContain(t, body, "confirmed without a passing check", `badge confirmed`, "checked in the browser by hand")
	}
	ada.page("/definitions", 200, "1/1 confirmed")
	defBody := ada.page("/definitions", 200)
	defPath := "/definitions/" + regexp.MustCompile(`href="/definitions/(\d+)"`).FindStringSubmatch(defBody)[1]
	ada.page(defPath, 200, "Deployment:</span> <a", "1/1 confirmed")

	// The lists show it; the target lists its deployment.
	ada.page("/deployments?state=all&target="+targetID, 200, `href="`+depPath+`"`, "#"+depID)
	ada.page("/deployments?state=all&certificate="+certID, 200, `href="`+depPath+`"`)
	ada.page(targetPath, 200, `href="`+depPath+`"`)
	ada.page("/targets", 200, `href="`+depPath+`"`)

	// Starting from the target's page: a bad number is refused next to
	// the field; the same certificate finds the same process.
	res, body = ada.post("/deployments", url.Values{"from": {"target"}, "target_id": {targetID}, "certificate_id": {"abc"}})
	wantStatus(t, "bad certificate number", res, body, http.StatusUnprocessableEntity)
	wellFormed(t, body)
	mustContain(t, body, `id="e-s-cert"`, `value="abc"`, "Deploy a certificate here")
	p, _ := ada.submit("/deployments", url.Values{"from": {"target"}, "target_id": {targetID}, "certificate_id": {certID}}, `/deployments/\d+`)
	if p != depPath {
		t.Fatalf("a second start went to %s, want %s", p, depPath)
	}

	// The step history, with the commands' output folded away.
	body = ada.page(depPath, 200, "History", "prepared", "by user:ada")
	if !strings.Contains(body, "<strong>installed</strong>") {
		t.Fatalf("the history lacks the install:\n%s", body)
	}

	// Install again: the replaced files are backed up and can come back.
	_, body = ada.submit(depPath+"/install", url.Values{}, depPath)
	mustContain(t, body, "Attempts</dt><dd>2</dd>", ".certkeeper-backup", "Roll back")
	_, body = ada.submit(depPath+"/rollback", url.Values{}, depPath)
	mustContain(t, body, "rolled back", `badge rolled_back`)

	// Packages: admins only; the password is checked first.
	res, body = ada.post(depPath+"/package", url.Values{"password": {"too short"}, "again": {"too short"}})
	wantStatus(t, "short package password", res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, `id="e-p-pass"`, "too short")
	res, body = ada.post(depPath+"/package", url.Values{"password": {"a long package pass"}, "again": {"another long pass"}})
	wantStatus(t, "mistyped package password", res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, `id="e-p-again"`, "differ")
	res, pkg := ada.post(depPath+"/package", url.Values{"password": {"a long package pass"}, "again": {"a long package pass"}})
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), ".ckpkg") || len(pkg) == 0 {
		t.Fatalf("package: %d %q (%d bytes)", res.StatusCode, res.Header.Get("Content-Disposition"), len(pkg))
	}
	if strings.Contains(pkg, "PRIVATE KEY") {
		t.Fatal("the one-click package holds the key in clear")
	}
	res, zip := ada.get(depPath + "/zip")
	if res.StatusCode != 200 || !strings.HasPrefix(zip, "PK") || !strings.Contains(res.Header.Get("Content-Disposition"), ".zip") {
		t.Fatalf("zip: %d %q", res.StatusCode, res.Header.Get("Content-Disposition"))
	}

	// bob reads targets and deployments but gets no admin form or
	// package.
	body = bob.page(targetPath, 200, "web1", dir)
	if strings.Contains(body, targetPath+"/edit") || strings.Contains(body, targetPath+"/delete") {
		t.Fatalf("bob sees the target's admin actions:\n%s", body)
	}
	bob.page(targetPath+"/edit", 403, "needs the admin role")
	body = bob.page(depPath, 200, "History")
	if strings.Contains(body, "/package") || strings.Contains(body, "/zip") {
		t.Fatalf("bob is offered the packages:\n%s", body)
	}
	res, body = bob.post(depPath+"/package", url.Values{"password": {"a long package pass"}, "again": {"a long package pass"}})
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "needs the admin role") {
		t.Fatalf("bob package: %d\n%s", res.StatusCode, body)
	}
	if res, _ := bob.get(depPath + "/zip"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("bob zip: %d", res.StatusCode)
	}
	res, body = bob.post("/targets", form)
	wantStatus(t, "bob creates a target", res, body, http.StatusForbidden)

	// A manual target: no install button; an install posted anyway is
	// refused with the reason, as a page htmx swaps in for its requests.
	manualPath := ada.newTarget(url.Values{"name": {"by-hand"}, "preset": {"nginx"}, "method": {"manual"},
		"directory": {"/etc/nginx/tls"}, "admin_email": {"web-admin@example.test"}})
	manualDep, body := ada.submit("/deployments", url.Values{"from": {"target"}, "certificate_id": {certID},
		"target_id": {idAt(t, manualPath)}}, `/deployments/\d+`)
	mustContain(t, body, "Send the install request", "web-admin@example.test", "Download the zip")
	if strings.Contains(body, `action="`+manualDep+`/install"`) {
		t.Fatalf("a manual deployment offers the install:\n%s", body)
	}
	res, body = ada.do("POST", manualDep+"/install", strings.NewReader(url.Values{"csrf": {ada.csrf()}}.Encode()),
		"application/x-www-form-urlencoded", "HX-Request", "true", "HX-Target", "")
	wantStatus(t, "htmx install on a manual target", res, body, http.StatusOK)
	mustContain(t, body, `class="alert"`, "installed by hand")
	res, body = ada.post(manualDep+"/install", nil)
	wantStatus(t, "install on a manual target", res, body, http.StatusUnprocessableEntity)
	res, body = ada.post(manualDep+"/request", url.Values{"password": {"short"}})
	wantStatus(t, "install request with a short password", res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, `id="e-m-pass"`, "too short")

	// Edit, and a stale edit is refused with a clear message.
	edit := ada.page(targetPath+"/edit", 200, `name="version"`, `value="`+dir+`"`)
	version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(edit)[1]
	form.Set("version", version)
	form.Set("notes", "first edit")
	_, body = ada.submit(targetPath+"/edit", form, targetPath)
	mustContain(t, body, "Target web1 saved", "first edit")
	form.Set("notes", "second edit")
	res, body = ada.post(targetPath+"/edit", form)
	wantStatus(t, "stale edit", res, body, http.StatusConflict)
	mustContain(t, body, "Someone changed this target")
	ada.page(targetPath, 200, "first edit")

	// Delete, after the confirmation the page asks for.
	mustContain(t, ada.page(targetPath, 200), `data-confirm="Delete target web1`)
	_, body = ada.submit(targetPath+"/delete", url.Values{}, "/targets")
	mustContain(t, body, "Target web1 deleted", "by-hand")
	if strings.Contains(body, `href="`+targetPath+`"`) {
		t.Fatalf("the deleted target is still listed:\n%s", body)
	}
	ada.page(depPath, 404)
}

// TestDeploySecretsNeverShown sets every secret of an SSH target and
// looks for them in every page that shows the target.
func TestDeploySecretsNeverShown(t *testing.T) {
	s := newSite(t)
	ada, bob := s.signInOwn("ada"), s.signInOwn("bob")
	certID := ada.issueCertificate("api")
	const password, keystore = "ssh-Secret-Password-4711", "keystore-Secret-0815"
	form := url.Values{"name": {"ssh1"}, "preset": {"tomcat-pkcs12"}, "method": {"ssh"}, "directory": {"/opt/tomcat/conf"},
		"ssh_host": {"127.0.0.1"}, "ssh_port": {"2222"}, "ssh_user": {"deploy"}, "ssh_host_key": {testHostKey},
		"ssh_password": {password}, "keystore_password": {keystore}, "check_host": {"127.0.0.1"}, "check_port": {"8443"},
		"admin_email": {"ops@example.test"}}
	targetPath := ada.newTarget(form)
	targetID := idAt(t, targetPath)
	depPath, _ := ada.submit("/deployments", url.Values{"certificate_id": {certID}, "target_id": {targetID}}, `/deployments/\d+`)

	body := ada.page(targetPath, 200, "deploy@127.0.0.1:2222", "SSH password</dt><dd>set", "SSH private key</dt><dd>not set",
		"Key-store password</dt><dd>set", "127.0.0.1:8443")
	pages := []string{body}
	pages = append(pages, ada.page(targetPath+"/edit", 200, "one is stored; leave empty to keep it", "Remove the stored password"))
	for _, p := range []string{"/targets", "/deployments", "/deployments?state=all", depPath, "/certificates/" + certID} {
		pages = append(pages, ada.page(p, 200), bob.page(p, 200))
	}
	// A refused edit does not echo the typed secret either.
	edit := ada.page(targetPath+"/edit", 200)
	version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(edit)[1]
	bad := url.Values{"version": {version}, "name": {"ssh1"}, "preset": {"tomcat-pkcs12"}, "method": {"ssh"},
		"directory": {"relative"}, "ssh_host": {"127.0.0.1"}, "ssh_user": {"deploy"}, "ssh_host_key": {testHostKey},
		"ssh_password": {password + "-new"}, "keystore_password": {keystore + "-new"}}
	res, refused := ada.post(targetPath+"/edit", bad)
	wantStatus(t, "refused edit", res, refused, http.StatusUnprocessableEntity)
	pages = append(pages, refused)
	for i, p := range pages {
		for _, secret := range []string{password, keystore} {
			if strings.Contains(p, secret) {
				t.Fatalf("page %d shows a secret:\n%s", i, p)
			}
		}
	}

	// Keeping (empty field) and removing (the box) the stored password.
	bad.Set("directory", "/opt/tomcat/conf")
	bad.Del("ssh_password")
	bad.Del("keystore_password")
	_, body = ada.submit(targetPath+"/edit", bad, targetPath)
	mustContain(t, body, "SSH password</dt><dd>set", "Key-store password</dt><dd>set")
	edit = ada.page(targetPath+"/edit", 200)
	bad.Set("version", regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(edit)[1])
	bad.Set("clear_ssh_password", "1")
	key := sshPrivateKey(t)
	bad.Set("ssh_private_key", key)
	_, body = ada.submit(targetPath+"/edit", bad, targetPath)
	mustContain(t, body, "SSH password</dt><dd>not set", "SSH private key</dt><dd>set", "Key-store password</dt><dd>set")
	for _, p := range []string{targetPath, targetPath + "/edit"} {
		if body := ada.page(p, 200); strings.Contains(body, "PRIVATE KEY") || strings.Contains(body, key[40:80]) {
			t.Fatalf("%s shows the SSH private key:\n%s", p, body)
		}
	}
}

// sshPrivateKey returns a new unencrypted OpenSSH private key.
func sshPrivateKey(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(blk))
}
