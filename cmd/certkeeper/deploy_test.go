package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// deployCert is a certificate made by "ca issue".
type deployCert struct {
	id     string
	sha256 string
}

// issue runs "ca issue" with args and returns the certificate's ID (from
// the "issued certificate N" line) and SHA-256.
func issue(t *testing.T, c *ck, args ...string) deployCert {
	t.Helper()
	out := filepath.Join(t.TempDir(), "issued.pem")
	r := c.run(append([]string{"ca", "issue", "--to", "pem", "--out", out}, args...)...)
	if r.code != 0 {
		t.Fatalf("ca issue %v: exit %d: %s", args, r.code, r.stderr)
	}
	var id int64
	if _, err := fmt.Sscanf(r.stderr, "issued certificate %d,", &id); err != nil {
		t.Fatalf("ca issue: no certificate ID in %q", r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(data)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("ca issue wrote no certificate first: %q", data)
	}
	sum := sha256.Sum256(blk.Bytes)
	return deployCert{id: strconv.FormatInt(id, 10), sha256: hex.EncodeToString(sum[:])}
}

// deployment is the JSON of a deployment as the CLI prints it.
type deployment struct {
	ID        int64  `json:"id"`
	State     string `json:"state"`
	Backup    string `json:"backup"`
	LastCheck *struct {
		Passed       bool   `json:"passed"`
		ServedSHA256 string `json:"served_sha256"`
	} `json:"last_check"`
	Steps []struct {
		Action string `json:"action"`
		Detail string `json:"detail"`
		Output string `json:"output"`
	} `json:"steps"`
}

// deploy runs "deploy --json CERT TARGET..." and returns the deployments
// and the exit status and standard error.
func deploy(t *testing.T, c *ck, args ...string) ([]deployment, result) {
	t.Helper()
	r := c.run(append([]string{"deploy", "--json"}, args...)...)
	var deps []deployment
	if err := json.Unmarshal([]byte(r.stdout), &deps); err != nil {
		t.Fatalf("deploy %v: exit %d, stdout is not JSON (%v): %q\nstderr: %s", args, r.code, err, r.stdout, r.stderr)
	}
	return deps, r
}

// deployOK deploys one certificate to one target and wants state.
func deployOK(t *testing.T, c *ck, cert deployCert, target, state string) deployment {
	t.Helper()
	deps, r := deploy(t, c, cert.id, target)
	if r.code != 0 || len(deps) != 1 || deps[0].State != state {
		t.Fatalf("deploy %s %s: exit %d, %+v, want one deployment %s\nstderr: %s", cert.id, target, r.code, deps, state, r.stderr)
	}
	return deps[0]
}

// servedSHA returns the SHA-256 of the leaf addr serves for sni.
func servedSHA(t *testing.T, addr, sni string) string {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
		&tls.Config{ServerName: sni, InsecureSkipVerify: true}) //nolint:gosec // the test reads what is served
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
	return hex.EncodeToString(sum[:])
}

// waitServed waits until addr serves the certificate want (reloads are
// asynchronous) and fails the test after 10 seconds.
func waitServed(t *testing.T, addr, sni, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for got := servedSHA(t, addr, sni); got != want; got = servedSHA(t, addr, sni) {
		if time.Now().After(deadline) {
			t.Fatalf("%s serves %s, want %s", addr, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeTestFile(t *testing.T, name, content string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return name
}

// nginxSite starts an nginx serving name from DIR/fullchain.pem and
// DIR/privkey.pem (a throwaway self-signed pair at first).
func nginxSite(t *testing.T, name string) (*testenv.Nginx, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tls")
	n := testenv.StartNginx(t, []testenv.NginxServer{{Name: name,
		CertFile: filepath.Join(dir, "fullchain.pem"), KeyFile: filepath.Join(dir, "privkey.pem")}})
	return n, dir
}

// addNginxTarget adds the nginx-preset target called target, delivered
// by method into dir, with n's test and reload commands and a check of
// n's server; it returns the check address.
func addNginxTarget(c *ck, n *testenv.Nginx, target, method, dir string) string {
	srv := n.Servers[0]
	c.ok("target", "add", "--name", target, "--preset", "nginx", "--method", method, "--dir", dir,
		"--test-command", n.TestCommand(), "--reload-command", n.ReloadCommand(), "--check", srv.Listen, "--sni", srv.Name)
	return srv.Listen
}

func TestDeployNginxConfirmFailRollBack(t *testing.T) {
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	const name = "www.deploy.test"
	n, dir := nginxSite(t, name)
	addr := addNginxTarget(c, n, "web", "directory", dir)
	if out := c.ok("target", "show", "web"); !strings.Contains(out, n.TestCommand()) || !strings.Contains(out, addr) {
		t.Errorf("target show lacks the test command or the check address:\n%s", out)
	}

	first := issue(t, c, "--name", name)
	d1 := deployOK(t, c, first, "web", "confirmed")
	if d1.LastCheck == nil || !d1.LastCheck.Passed || d1.LastCheck.ServedSHA256 != first.sha256 {
		t.Errorf("deploy: last check %+v, want passed serving %s", d1.LastCheck, first.sha256)
	}
	waitServed(t, addr, name, first.sha256)
	if fi, err := os.Stat(filepath.Join(dir, "privkey.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("privkey.pem: %v, want mode 0600", err)
	}

	// A layout that writes the certificate where nginx wants the key:
	// nginx -t refuses it, the files are put back, nothing is reloaded.
	layout := writeTestFile(t, filepath.Join(t.TempDir(), "broken.json"), `{
  "name": "nginx-cert-as-key",
  "files": [
    {"path": "fullchain.pem", "content": "fullchain"},
    {"path": "privkey.pem", "content": "cert"}
  ],
  "instructions": "a layout that cannot work"
}`, 0o644)
	c.ok("preset", "add", "--file", layout)
	if out := c.ok("preset", "list"); !strings.Contains(out, "nginx-cert-as-key") || !strings.Contains(out, "license-server") {
		t.Errorf("preset list lacks the user layout or a built-in preset:\n%s", out)
	}
	c.ok("target", "add", "--name", "web-broken", "--preset", "nginx-cert-as-key", "--method", "directory", "--dir", dir,
		"--test-command", n.TestCommand(), "--reload-command", n.ReloadCommand(), "--check", addr, "--sni", name)
	keyBefore := readFile(t, filepath.Join(dir, "privkey.pem"))
	second := issue(t, c, "--name", name)
	deps, r := deploy(t, c, second.id, "web-broken")
	if r.code != 1 || len(deps) != 1 || deps[0].State != "failed" {
		t.Fatalf("deploy with a broken layout: exit %d, %+v, want one failed deployment\nstderr: %s", r.code, deps, r.stderr)
	}
	if !strings.Contains(r.stderr, "restored") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("deploy with a broken layout: stderr %q, want one line saying the files were restored", r.stderr)
	}
	if got := readFile(t, filepath.Join(dir, "privkey.pem")); !bytes.Equal(got, keyBefore) {
		t.Error("privkey.pem was not restored after the failed test command")
	}
	if got := servedSHA(t, addr, name); got != first.sha256 {
		t.Errorf("after the failed deployment nginx serves %s, want the previous %s", got, first.sha256)
	}
	if out := c.ok("deployment", "show", strconv.FormatInt(deps[0].ID, 10)); !strings.Contains(out, "install_failed") {
		t.Errorf("deployment show of the failed one lacks the install_failed step:\n%s", out)
	}

	// Roll back a confirmed deployment: the first certificate's files
	// come back and nginx serves it again.
	third := issue(t, c, "--name", name)
	d3 := deployOK(t, c, third, "web", "confirmed")
	waitServed(t, addr, name, third.sha256)
	id3 := strconv.FormatInt(d3.ID, 10)
	if out := c.ok("deployment", "rollback", id3); !strings.Contains(out, "rolled_back") {
		t.Errorf("deployment rollback: %s", out)
	}
	waitServed(t, addr, name, first.sha256)
	if got := readFile(t, filepath.Join(dir, "privkey.pem")); !bytes.Equal(got, keyBefore) {
		t.Error("rollback did not restore the first certificate's key")
	}

	out := c.ok("deployment", "list", "--target", "web")
	for _, want := range []string{strconv.FormatInt(d1.ID, 10), id3, "rolled_back"} {
		if !strings.Contains(out, want) {
			t.Errorf("deployment list --target web lacks %q:\n%s", want, out)
		}
	}
	if out := c.ok("deployment", "list", "--state", "failed"); !strings.Contains(out, "web-broken") || strings.Contains(out, "rolled_back") {
		t.Errorf("deployment list --state failed:\n%s", out)
	}
}

func TestDeploySSHTarget(t *testing.T) {
	sshd := testenv.StartSSHD(t)
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	tmp := t.TempDir()
	keyFile := writeTestFile(t, filepath.Join(tmp, "id_ed25519"), string(sshd.ClientKey), 0o600)
	hostKeyFile := writeTestFile(t, filepath.Join(tmp, "host.pub"), sshd.HostKey+"\n", 0o644)
	host, port, _ := net.SplitHostPort(sshd.Addr)
	dir := filepath.Join(tmp, "remote", "tls")
	ssh := []string{"--method", "ssh", "--preset", "generic", "--dir", dir, "--ssh-host", host, "--ssh-port", port,
		"--ssh-user", sshd.User, "--ssh-key-file", keyFile, "--reload-command", "echo reloaded-by-certkeeper"}

	// Trust on first use is explicit: scan shows the fingerprint and
	// stores nothing without --yes.
	r := c.run(append([]string{"target", "add", "--name", "box", "--ssh-host-key", "scan"}, ssh...)...)
	if r.code != 1 || !strings.Contains(r.stdout, "SHA256:") || !strings.Contains(r.stderr, "--yes") {
		t.Fatalf("target add --ssh-host-key scan without --yes: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if out := c.ok("target", "list"); strings.Contains(out, "box") {
		t.Fatalf("a target was stored without --yes:\n%s", out)
	}
	c.ok(append([]string{"target", "add", "--name", "box", "--ssh-host-key", "scan", "--yes"}, ssh...)...)
	c.ok(append([]string{"target", "add", "--name", "box2", "--ssh-host-key", "@" + hostKeyFile}, ssh...)...)
	for _, name := range []string{"box", "box2"} {
		if out := c.ok("target", "show", name); !strings.Contains(out, "private key set") || strings.Contains(out, "PRIVATE KEY") {
			t.Errorf("target show %s: want the key set and not shown:\n%s", name, out)
		}
	}

	cert := issue(t, c, "--name", "box.deploy.test")
	r = c.run("deploy", "--verbose", cert.id, "box")
	if r.code != 0 || !strings.Contains(r.stdout, "reloaded-by-certkeeper") {
		t.Fatalf("deploy to ssh: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	for name, mode := range map[string]os.FileMode{"cert.pem": 0o644, "chain.pem": 0o644, "fullchain.pem": 0o644, "privkey.pem": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s over SFTP: %v, want mode %o", name, err, mode)
		}
	}
	if blk, _ := pem.Decode(readFile(t, filepath.Join(dir, "cert.pem"))); blk == nil || hexSum(blk.Bytes) != cert.sha256 {
		t.Error("cert.pem over SFTP is not the deployed certificate")
	}
	var list struct{ Items []deployment }
	if err := json.Unmarshal([]byte(c.ok("deployment", "list", "--json", "--target", "box")), &list); err != nil || len(list.Items) != 1 {
		t.Fatalf("deployment list --json --target box: %v, %+v", err, list)
	}
	if out := c.ok("deployment", "show", strconv.FormatInt(list.Items[0].ID, 10)); !strings.Contains(out, "reloaded-by-certkeeper") {
		t.Errorf("deployment show does not record the reload output:\n%s", out)
	}

	// The SSH key stays usable after a master-key rotation.
	c.ok("rekey")
	os.RemoveAll(dir)
	if r := c.run("deploy", cert.id, "box2"); r.code != 0 {
		t.Fatalf("deploy after rekey: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "privkey.pem")); err != nil {
		t.Errorf("deploy after rekey: %v", err)
	}

	// A server presenting another host key is refused before anything
	// is written.
	other := filepath.Join(tmp, "other", "tls")
	wrongKey := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb7Q2dXJ3b2y1c0mQbZ0HnF5Xw0eT3m7cQ0hY9oJ0qK"
	c.ok("target", "add", "--name", "impostor", "--method", "ssh", "--preset", "generic", "--dir", other,
		"--ssh-host", host, "--ssh-port", port, "--ssh-user", sshd.User, "--ssh-key-file", keyFile, "--ssh-host-key", wrongKey)
	if r := c.run("deploy", cert.id, "impostor"); r.code != 1 {
		t.Errorf("deploy with a wrong pinned host key: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(other); !os.IsNotExist(err) {
		t.Errorf("deploy with a wrong host key wrote %s: %v", other, err)
	}
}

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// dirSnapshot maps every file under dir to its content.
func dirSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		m[p] = string(readFile(t, p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPackageInstallRoundTrip(t *testing.T) {
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	const name = "pkg.deploy.test"
	n, dir := nginxSite(t, name)
	// The package names another directory; install --dir puts the files
	// where this nginx reads them.
	addr := addNginxTarget(c, n, "far", "manual", "/srv/elsewhere/tls")
	cert := issue(t, c, "--name", name)
	d := deployOK(t, c, cert, "far", "prepared")
	id := strconv.FormatInt(d.ID, 10)

	tmp := t.TempDir()
	pw := writeTestFile(t, filepath.Join(tmp, "pw"), "correct horse battery\n", 0o600)
	short := writeTestFile(t, filepath.Join(tmp, "short"), "too short\n", 0o600)
	pkg := filepath.Join(tmp, "site.ckpkg")
	if msg := c.fails("package", "create", id, "-o", pkg, "--password-file", short); !strings.Contains(msg, "12") {
		t.Errorf("a short package password: %s", msg)
	}
	c.ok("package", "create", id, "-o", pkg, "--password-file", pw)

	// The install runs with a data directory that must stay absent.
	site := newCK(t)
	before := dirSnapshot(t, dir)
	wrong := writeTestFile(t, filepath.Join(tmp, "wrong"), "wrong horse battery\n", 0o600)
	data := readFile(t, pkg)
	altered := slices.Clone(data)
	altered[len(altered)-20] ^= 0x01
	alteredFile := filepath.Join(tmp, "altered.ckpkg")
	if err := os.WriteFile(alteredFile, altered, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{pkg, "--password-file", wrong}, {alteredFile, "--password-file", pw}} {
		msg := site.fails(append([]string{"install", "--dir", dir}, args...)...)
		if !strings.Contains(msg, "password") {
			t.Errorf("install %v: %s, want a wrong password or damaged file error", args, msg)
		}
	}
	if after := dirSnapshot(t, dir); !mapsEqual(before, after) {
		t.Error("a refused package changed the directory")
	}

	report := filepath.Join(tmp, "report.json")
	out := site.ok("install", pkg, "--password-file", pw, "--dir", dir, "--report", report)
	for _, want := range []string{"fullchain.pem", "privkey.pem", n.ReloadCommand(), "backup", "check: passed", "installed"} {
		if !strings.Contains(out, want) {
			t.Errorf("install output lacks %q:\n%s", want, out)
		}
	}
	waitServed(t, addr, name, cert.sha256)
	if _, err := os.Stat(site.dataDir); !os.IsNotExist(err) {
		t.Errorf("install created a data directory: %v", err)
	}
	if _, err := os.Stat("/srv/elsewhere"); err == nil {
		t.Error("install wrote into the package's directory despite --dir")
	}
	// The report made on site confirms the deployment on the manager.
	if out := c.ok("deployment", "upload-report", id, report); !strings.Contains(out, "confirmed") {
		t.Errorf("upload-report of the install's report:\n%s", out)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestDeploymentZipAndCheckReport(t *testing.T) {
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	const name = "zip.deploy.test"
	c.ok("target", "add", "--name", "by-hand", "--preset", "nginx", "--method", "manual", "--dir", "/etc/nginx/tls")
	cert := issue(t, c, "--name", name)
	other := issue(t, c, "--name", "other.deploy.test")
	d := deployOK(t, c, cert, "by-hand", "prepared")
	dOther := deployOK(t, c, other, "by-hand", "prepared")

	tmp := t.TempDir()
	zipFile := filepath.Join(tmp, "by-hand.zip")
	c.ok("deployment", "zip", strconv.FormatInt(d.ID, 10), "-o", zipFile)
	if fi, err := os.Stat(zipFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("zip file: %v, want mode 0600 (it holds the key)", err)
	}
	files := unzip(t, zipFile)
	for _, want := range []string{"fullchain.pem", "privkey.pem", "README.txt"} {
		if _, ok := files[want]; !ok {
			t.Errorf("the zip lacks %s (has %v)", want, keys(files))
		}
	}
	if !strings.Contains(files["README.txt"], "nginx -t") {
		t.Errorf("README.txt lacks the preset's steps:\n%s", files["README.txt"])
	}
	if blk, _ := pem.Decode([]byte(files["fullchain.pem"])); blk == nil || hexSum(blk.Bytes) != cert.sha256 {
		t.Error("fullchain.pem of the zip does not start with the certificate")
	}

	// Serve the zip's files, check on site, and hand the report in.
	certDir := filepath.Join(tmp, "served")
	os.MkdirAll(certDir, 0o700)
	writeTestFile(t, filepath.Join(certDir, "fullchain.pem"), files["fullchain.pem"], 0o644)
	writeTestFile(t, filepath.Join(certDir, "privkey.pem"), files["privkey.pem"], 0o600)
	n := testenv.StartNginx(t, []testenv.NginxServer{{Name: name,
		CertFile: filepath.Join(certDir, "fullchain.pem"), KeyFile: filepath.Join(certDir, "privkey.pem")}})
	report := filepath.Join(tmp, "report.json")
	site := newCK(t)
	out := site.ok("check", "--report", report, n.Servers[0].Listen, "--sni", name)
	if !strings.Contains(out, colonFP(cert.sha256)) || !strings.Contains(out, "SHA-1") || !strings.Contains(out, "chain:     2") {
		t.Errorf("check summary lacks the served SHA-256, SHA-1 or chain length:\n%s", out)
	}
	if fi, err := os.Stat(report); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("report file: %v, want mode 0644", err)
	}
	if _, err := os.Stat(site.dataDir); !os.IsNotExist(err) {
		t.Errorf("check created a data directory: %v", err)
	}
	if msg := c.fails("deployment", "upload-report", strconv.FormatInt(dOther.ID, 10), report); !strings.Contains(msg, "error: ") {
		t.Errorf("upload-report for another certificate: %s", msg)
	}
	if out := c.ok("deployment", "upload-report", strconv.FormatInt(d.ID, 10), report); !strings.Contains(out, "confirmed") {
		t.Errorf("upload-report for the served certificate:\n%s", out)
	}
	if out := c.ok("deployment", "show", strconv.FormatInt(dOther.ID, 10)); strings.Contains(out, "confirmed") {
		t.Errorf("the other certificate's deployment was confirmed by a report that does not show it:\n%s", out)
	}
}

func colonFP(h string) string {
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, strings.ToUpper(h[i:i+2]))
	}
	return strings.Join(parts, ":")
}

// unzip maps the base name of every file of a zip to its content.
func unzip(t *testing.T, name string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(name)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	m := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(rc)
		rc.Close()
		m[filepath.Base(f.Name)] = buf.String()
	}
	return m
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestLicenseLayoutsDeployMutualTLS(t *testing.T) {
	openssl := testenv.Command(t, "openssl")
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	c.ok("ca", "init", "--name", "stranger")
	base := t.TempDir()
	serverDir, clientDir, strangerDir := filepath.Join(base, "ls"), filepath.Join(base, "ws1"), filepath.Join(base, "ws2")
	c.ok("target", "add", "--name", "license", "--preset", "license-server", "--method", "directory", "--dir", serverDir,
		"--reload-command", "")
	for name, dir := range map[string]string{"ws1": clientDir, "ws2": strangerDir} {
		c.ok("target", "add", "--name", name, "--preset", "license-client", "--method", "directory", "--dir", dir)
	}
	srv := issue(t, c, "--ca", "corp", "--profile", "tls-server", "--name", "license.test", "--ip", "127.0.0.1")
	cli := issue(t, c, "--ca", "corp", "--profile", "tls-client", "--cn", "charon-ws1")
	stranger := issue(t, c, "--ca", "stranger", "--profile", "tls-client", "--cn", "charon-ws2")
	c.ok("deploy", srv.id, "license")
	c.ok("deploy", cli.id, "ws1")
	c.ok("deploy", stranger.id, "ws2")

	for _, f := range []string{"ca.crt", "server.crt", "server.key", "web-server.pem", "web-ca.cer"} {
		if _, err := os.Stat(filepath.Join(serverDir, f)); err != nil {
			t.Errorf("license-server layout: %v", err)
		}
	}
	if fi, err := os.Stat(filepath.Join(clientDir, "charon.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("charon.key: %v, want mode 0600", err)
	}
	if ok, out := opensslHandshake(t, openssl, serverDir, clientDir); !ok {
		t.Errorf("mutual TLS between the deployed license server and client failed:\n%s", out)
	}
	if ok, out := opensslHandshake(t, openssl, serverDir, strangerDir); ok {
		t.Errorf("a client of another CA completed the handshake:\n%s", out)
	}
}

func TestDeploySeveralTargetsShowsProgress(t *testing.T) {
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	base := t.TempDir()
	var targets []string
	for i := range 3 {
		name := fmt.Sprintf("node%d", i)
		c.ok("target", "add", "--name", name, "--preset", "generic", "--method", "directory",
			"--dir", filepath.Join(base, name), "--reload-command", "true")
		targets = append(targets, name)
	}
	c.ok("target", "add", "--name", "fails", "--preset", "generic", "--method", "directory",
		"--dir", filepath.Join(base, "fails"), "--reload-command", "echo cannot reload; exit 3")
	cert := issue(t, c, "--name", "many.deploy.test")
	r := c.run(append([]string{"deploy", "--progress", cert.id}, targets...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "deploying") || !strings.Contains(r.stderr, "3/3") {
		t.Fatalf("deploy to 3 targets: exit %d, stderr %q, want a progress bar up to 3/3\n%s", r.code, r.stderr, r.stdout)
	}
	for _, name := range targets {
		if blk, _ := pem.Decode(readFile(t, filepath.Join(base, name, "cert.pem"))); blk == nil || hexSum(blk.Bytes) != cert.sha256 {
			t.Errorf("%s: cert.pem is not the deployed certificate", name)
		}
	}
	r = c.run("deploy", "--verbose", cert.id, "node0", "fails")
	if r.code != 1 || !strings.Contains(r.stderr, "1 of 2") || !strings.Contains(r.stdout, "cannot reload") {
		t.Errorf("deploy with one failing target: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}
