package main

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// sslRun runs openssl and returns its combined output and exit status.
func sslRun(t *testing.T, openssl, stdin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(openssl, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("openssl %v: %v", args, err)
	}
	return string(out), 0
}

// sslOK runs openssl and fails the test unless it exits 0.
func sslOK(t *testing.T, openssl string, args ...string) string {
	t.Helper()
	out, code := sslRun(t, openssl, "", args...)
	if code != 0 {
		t.Fatalf("openssl %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

func TestKitCreateServesMutualTLS(t *testing.T) {
	openssl := testenv.Command(t, "openssl")
	c := newCK(t)
	base := t.TempDir()
	kit1, kit2 := filepath.Join(base, "kit1"), filepath.Join(base, "kit2")
	out := c.ok("kit", "create", "--out", kit1, "--server-name", "ls.example.test", "--server-ip", "127.0.0.1", "--client", "ws1", "--client", "ws2")
	for _, f := range []string{"server/web-server.pem", "clients/ws2/charon.key", "from CA default"} {
		if !strings.Contains(out, filepath.FromSlash(f)) {
			t.Errorf("kit create output does not mention %s:\n%s", f, out)
		}
	}
	c.ok("kit", "create", "--out", kit2, "--new-ca", "--server-name", "other.example.test", "--client", "x1")
	checkKitFiles(t, openssl, kit1)

	tests := []struct {
		name, server, client string
		accept               bool
	}{
		{"same kit", kit1, filepath.Join(kit1, "clients/ws1"), true},
		{"second kit", kit2, filepath.Join(kit2, "clients/x1"), true},
		{"client of another root", kit1, filepath.Join(kit2, "clients/x1"), false},
		{"server of another root", kit2, filepath.Join(kit1, "clients/ws2"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := filepath.Join(tt.server, "server")
			r := c.run("kit", "verify", "--server", srv, "--client", tt.client)
			if verified := r.code == 0; verified != tt.accept {
				t.Fatalf("kit verify exit %d, want accept=%v\n%s%s", r.code, tt.accept, r.stdout, r.stderr)
			}
			if !tt.accept {
				checkVerifyFailure(t, r)
			}
			served, out := opensslHandshake(t, openssl, srv, tt.client)
			if served != tt.accept {
				t.Errorf("openssl handshake accepted=%v, kit verify said %v\n%s", served, tt.accept, out)
			}
		})
	}
}

// checkVerifyFailure checks the failure contract of kit verify: the plain
// explanation on standard output, one error line on standard error.
func checkVerifyFailure(t *testing.T, r result) {
	t.Helper()
	if r.code != 1 || !strings.Contains(r.stdout, "comes from another root") || !strings.Contains(r.stdout, "will reject it") {
		t.Errorf("kit verify: exit %d, stdout lacks the explanation:\n%s", r.code, r.stdout)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "error: kit: verify: ") {
		t.Errorf("kit verify stderr = %q, want one error: line", r.stderr)
	}
}

// opensslHandshake serves the kit's server directory with openssl
// s_server (client certificates required) and connects with s_client and
// the client directory; it reports whether the server answered.
func opensslHandshake(t *testing.T, openssl, server, client string) (bool, string) {
	t.Helper()
	addr := startOpenSSL(t, openssl, []string{"s_server", "-quiet", "-www", "-Verify", "1", "-verify_return_error",
		"-cert", filepath.Join(server, "server.crt"), "-key", filepath.Join(server, "server.key"), "-CAfile", filepath.Join(server, "ca.crt")})
	out, code := sslRun(t, openssl, "GET / HTTP/1.0\r\n\r\n", "s_client", "-connect", addr, "-ign_eof",
		"-servername", "ls.example.test", "-cert", filepath.Join(client, "charon.crt"), "-key", filepath.Join(client, "charon.key"),
		"-CAfile", filepath.Join(client, "ca.crt"), "-verify_return_error")
	ok := code == 0 && strings.Contains(out, "Verify return code: 0 (ok)") && strings.Contains(out, "HTTP/1.0 200 ok")
	if !ok && code == 0 {
		t.Errorf("s_client exited 0 without a served page:\n%s", out)
	}
	return ok, out
}

func checkKitFiles(t *testing.T, openssl, kit string) {
	t.Helper()
	web := filepath.Join(kit, "server/web-server.pem")
	if out := sslOK(t, openssl, "x509", "-in", web, "-noout", "-ext", "subjectAltName"); !strings.Contains(out, "ls.example.test") {
		t.Errorf("web-server.pem names:\n%s", out)
	}
	certPub := sslOK(t, openssl, "x509", "-in", web, "-noout", "-pubkey")
	keyPub := sslOK(t, openssl, "pkey", "-in", web, "-pubout")
	if certPub != keyPub {
		t.Errorf("web-server.pem: key does not match the certificate\n%s\n%s", certPub, keyPub)
	}
	if out := sslOK(t, openssl, "x509", "-inform", "DER", "-in", filepath.Join(kit, "server/web-ca.cer"), "-noout", "-subject"); !strings.Contains(out, "Root") {
		t.Errorf("web-ca.cer is not the root in DER: %s", out)
	}
	for p, want := range map[string]os.FileMode{"server/server.key": 0o600, "server/web-server.pem": 0o600, "server/ca.crt": 0o644, "clients/ws1/charon.key": 0o600} {
		if fi, err := os.Stat(filepath.Join(kit, p)); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, want mode %o", p, err, want)
		}
	}
}

func TestKitCreateRefusesAndValidates(t *testing.T) {
	c := newCK(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "old.txt"), []byte("keep"), 0o644)
	if msg := c.fails("kit", "create", "--out", dir, "--server-name", "s.test", "--client", "a"); !strings.Contains(msg, "--force") {
		t.Errorf("non-empty dir: %s", msg)
	}
	if msg := c.fails("kit", "create", "--out", filepath.Join(dir, "k"), "--server-name", "s.test", "--client", "../a"); !strings.Contains(msg, "client name") {
		t.Errorf("bad client name: %s", msg)
	}
	layouts := filepath.Join(dir, "layouts.json")
	os.WriteFile(layouts, []byte(`{"layouts":[{"name":"x","files":[{"path":"/etc/a","content":"cert"}]}]}`), 0o644)
	if msg := c.fails("kit", "create", "--out", filepath.Join(dir, "k"), "--layout-file", layouts, "--server-name", "s.test", "--client", "a"); !strings.Contains(msg, "must be relative") {
		t.Errorf("bad layout file: %s", msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "k")); err == nil {
		t.Error("a refused kit create wrote files")
	}
	c.ok("kit", "create", "--out", dir, "--force", "--server-name", "s.test", "--client", "a")
	if b, _ := os.ReadFile(filepath.Join(dir, "old.txt")); string(b) != "keep" {
		t.Error("kit create --force removed an unrelated file")
	}
}

func TestKitVerifyJSONAndPeers(t *testing.T) {
	c := newCK(t)
	base := t.TempDir()
	p1, p2 := filepath.Join(base, "p1"), filepath.Join(base, "p2")
	c.ok("kit", "create", "--out", p1, "--server-profile", "tls-server-client", "--server-name", "peer1.test", "--client", "a")
	c.ok("kit", "create", "--out", p2, "--server-profile", "tls-server-client", "--server-name", "peer2.test", "--client", "b")
	out := c.ok("kit", "verify", "--json", "--server", filepath.Join(p1, "server"), "--client", filepath.Join(p1, "clients/a"), "--server-name", "peer1.test")
	var v struct {
		OK     bool
		Checks []struct{ Code, Status, Message string }
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || !v.OK || len(v.Checks) == 0 {
		t.Fatalf("kit verify --json = %v %+v\n%s", err, v, out)
	}
	out = c.ok("kit", "verify", "--peer", filepath.Join(p1, "server"), filepath.Join(p2, "server"))
	if strings.Count(out, "mutual TLS handshake completed") != 2 {
		t.Errorf("kit verify --peer: want a handshake each way:\n%s", out)
	}
	r := c.run("kit", "verify", "--server", filepath.Join(p1, "server"), "--client", filepath.Join(p1, "clients/a"), "--server-name", "wrong.test")
	if r.code != 1 || !strings.Contains(r.stdout, "is not valid for wrong.test") {
		t.Errorf("wrong --server-name: exit %d\n%s", r.code, r.stdout)
	}
}

func TestCAInstallerAndExport(t *testing.T) {
	openssl := testenv.Command(t, "openssl")
	c := newCK(t)
	dir := t.TempDir()
	c.ok("kit", "create", "--out", filepath.Join(dir, "kit"), "--server-name", "s.test", "--client", "a")
	zipPath := filepath.Join(dir, "ca.zip")
	c.ok("ca", "installer", "--out", zipPath, "--name", "corp-root")
	files := readZip(t, zipPath, dir)
	for _, n := range []string{"corp-root.crt", "corp-root.cer", "corp-root-chain.p7b", "README.txt"} {
		if files[n] == "" {
			t.Fatalf("installer lacks %s", n)
		}
	}
	sslOK(t, openssl, "x509", "-inform", "DER", "-in", filepath.Join(dir, "corp-root.cer"), "-noout")
	if out := sslOK(t, openssl, "pkcs7", "-inform", "DER", "-in", filepath.Join(dir, "corp-root-chain.p7b"), "-print_certs", "-noout"); strings.Count(out, "subject=") != 2 {
		t.Errorf("p7b: want the issuing CA and the root:\n%s", out)
	}
	for _, s := range []string{"Debian", "update-ca-certificates", "update-ca-trust", "certutil -addstore", "MMC", "security add-trusted-cert", "keytool -importcert -cacerts", "Firefox", "certutil -d sql:"} {
		if !strings.Contains(files["README.txt"], s) {
			t.Errorf("README does not mention %q", s)
		}
	}
	// The kit's server certificate verifies against the exported chain.
	c.ok("ca", "export", "--to", "p7b", "--out", filepath.Join(dir, "chain.p7b"))
	c.ok("ca", "export", "--to", "der", "--root", "--out", filepath.Join(dir, "root.der"))
	pem := sslOK(t, openssl, "pkcs7", "-inform", "DER", "-in", filepath.Join(dir, "chain.p7b"), "-print_certs")
	os.WriteFile(filepath.Join(dir, "chain.pem"), []byte(pem), 0o644)
	sslOK(t, openssl, "verify", "-CAfile", filepath.Join(dir, "chain.pem"), filepath.Join(dir, "kit/server/server.crt"))
	if out := sslOK(t, openssl, "x509", "-inform", "DER", "-in", filepath.Join(dir, "root.der"), "-noout", "-subject"); !strings.Contains(out, "Root") {
		t.Errorf("ca export --root: %s", out)
	}
	if msg := c.fails("ca", "export", "--to", "pfx", "--out", filepath.Join(dir, "x")); !strings.Contains(msg, "pem, der or p7b") {
		t.Errorf("ca export --to pfx: %s", msg)
	}
}

func readZip(t *testing.T, path, dir string) map[string]string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(b)
		os.WriteFile(filepath.Join(dir, f.Name), b, 0o644)
	}
	return out
}

// TestKitServerOnlyClientsOnlyAndUserLayouts: a server-only kit, clients
// added to it later from the same CA (refused twice without --force; with
// --force the replaced files are backed up), and a layout saved with
// "preset add" from the same file format used by kit create and kit
// verify by name.
func TestKitServerOnlyClientsOnlyAndUserLayouts(t *testing.T) {
	c := newCK(t)
	base := t.TempDir()
	kit := filepath.Join(base, "kit")
	out := c.ok("kit", "create", "--out", kit, "--server-name", "ls.example.test")
	if !strings.Contains(out, "--clients-only") {
		t.Errorf("server-only kit output does not say how to add clients:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(kit, "clients")); err == nil {
		t.Fatal("a server-only kit has clients")
	}
	if msg := c.fails("kit", "create", "--out", filepath.Join(base, "none"), "--clients-only", "--client", "a"); !strings.Contains(msg, "create the kit first") {
		t.Errorf("clients-only without a kit: %s", msg)
	}
	c.ok("kit", "create", "--out", kit, "--clients-only", "--client", "ws1", "--client", "ws2")
	c.ok("kit", "verify", "--server", filepath.Join(kit, "server"), "--client", filepath.Join(kit, "clients/ws1"),
		"--server-name", "ls.example.test")
	old, _ := os.ReadFile(filepath.Join(kit, "clients/ws1/charon.key"))
	if msg := c.fails("kit", "create", "--out", kit, "--clients-only", "--client", "ws1"); !strings.Contains(msg, "already exists") {
		t.Errorf("adding ws1 twice: %s", msg)
	}
	out = c.ok("kit", "create", "--out", kit, "--clients-only", "--client", "ws1", "--force", "--json")
	var v struct {
		BackupDir string `json:"backup_dir"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.BackupDir == "" {
		t.Fatalf("kit create --force --json = %s (%v); want a backup_dir", out, err)
	}
	if saved, err := os.ReadFile(filepath.Join(v.BackupDir, "clients/ws1/charon.key")); err != nil || string(saved) != string(old) {
		t.Errorf("backup of charon.key: %v (%d bytes); want the replaced key", err, len(saved))
	}

	// One layout file for presets and kits; a saved layout is found by name.
	layout := filepath.Join(base, "layout.json")
	os.WriteFile(layout, []byte(`{"name": "mine", "files": [{"path": "c.pem", "content": "cert"},
		{"path": "k.pem", "content": "key"}, {"path": "ca.pem", "content": "ca-cert"}], "reload_command": "true"}`), 0o644)
	c.ok("preset", "add", "--file", layout)
	kit2 := filepath.Join(base, "kit2")
	c.ok("kit", "create", "--out", kit2, "--layout-file", layout, "--server-layout", "mine", "--client-layout", "mine",
		"--server-name", "s.example.test", "--client", "c1")
	c.ok("kit", "verify", "--server", filepath.Join(kit2, "server"), "--client", filepath.Join(kit2, "clients/c1"),
		"--server-layout", "mine", "--client-layout", "mine")
}
