package main

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// entries lists what is under dir, relative to it; none when dir is
// missing.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return filepath.SkipAll
		}
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReadOnlyCommandsCreateNothing: read-only commands on a data
// directory that does not exist, or with a --database certkeeper does not
// speak, fail with one line and leave no file, folder or master key.
func TestReadOnlyCommandsCreateNothing(t *testing.T) {
	root := t.TempDir()
	c := &ck{t: t, dataDir: filepath.Join(root, "data")}
	missing := filepath.Join(root, "nonexistent", "dir", "x.db")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"list"}, "no inventory at " + filepath.Join(c.dataDir, "certkeeper.db")},
		{[]string{"--database", missing, "list"}, "its directory " + filepath.Dir(missing) + " does not exist"},
		{[]string{"--database", "mysql://u:secret@db.example/ck", "list"}, `unsupported database "mysql:"`},
		{[]string{"--database", "sqlite3:///x.db", "import", "x.pem"}, `unsupported database "sqlite3:"`},
		{[]string{"audit"}, "no inventory at"},
		{[]string{"export", "1", "--to", "pem", "--out", "-"}, "no inventory at"},
		{[]string{"timeline"}, "no inventory at"},
		{[]string{"key", "list"}, "no inventory at"},
		{[]string{"certificate", "show", "1"}, "no inventory at"},
		{[]string{"definition", "list"}, "no inventory at"},
		{[]string{"ca", "list"}, "no inventory at"},
		{[]string{"user", "list"}, "no inventory at"},
	}
	t.Chdir(root) // a URL taken for a relative path would be created here
	for _, tc := range cases {
		line := c.fails(tc.args...)
		if !strings.Contains(line, tc.want) {
			t.Errorf("certkeeper %s: %s, want it to say %q", strings.Join(tc.args, " "), line, tc.want)
		}
		if strings.Contains(line, "secret") {
			t.Errorf("certkeeper %s printed the database password: %s", strings.Join(tc.args, " "), line)
		}
	}
	if got := entries(t, root); len(got) != 0 {
		t.Errorf("read-only commands created %v under %s", got, root)
	}
}

// TestMasterKeyOnlyForEmptyInventory: an inventory holding sealed keys is
// never given a new master key, whether the key file is gone, the
// database was moved to another data directory, or the key is another.
func TestMasterKeyOnlyForEmptyInventory(t *testing.T) {
	p := opensslPKI(t)
	c := newCK(t)
	c.ok("import", p.write(t, "b.pem", p.leaf, p.leafKey))
	db := filepath.Join(c.dataDir, "certkeeper.db")
	keyFile := filepath.Join(c.dataDir, "master.key")

	// The database pointed at from another data directory.
	other := &ck{t: t, dataDir: filepath.Join(t.TempDir(), "other")}
	for _, args := range [][]string{{"list"}, {"import", p.root}, {"export", p.leafSHA256, "--to", "key", "--out", "-"}} {
		line := other.fails(append([]string{"--database", db}, args...)...)
		want := filepath.Join(other.dataDir, "master.key") + " is missing but the inventory at " + db + " holds sealed keys"
		if !strings.Contains(line, want) {
			t.Errorf("%v from another data directory: %s, want %q", args, line, want)
		}
	}
	if _, err := os.Stat(filepath.Join(other.dataDir, "master.key")); err == nil {
		t.Error("a second master key was generated for an inventory holding sealed keys")
	}

	// The key file gone: serve (which would create the CA and the admin)
	// refuses and writes no new key.
	saved, _ := os.ReadFile(keyFile)
	os.Remove(keyFile)
	for _, args := range [][]string{{"serve", "--listen", "127.0.0.1:0", "--pki-listen", "off", "--agent-listen", "off", "--metrics-listen", "off"}, {"list"}} {
		if line := c.fails(args...); !strings.Contains(line, keyFile+" is missing") || !strings.Contains(line, "CERTKEEPER_MASTER_KEY") {
			t.Errorf("%v without master.key: %s", args, line)
		}
	}
	if _, err := os.Stat(keyFile); err == nil {
		t.Fatal("a new master key was written for an inventory holding sealed keys")
	}

	// Another key, in the file or in the environment, is refused too.
	wrong := make([]byte, 32)
	rand.Read(wrong)
	os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(wrong)+"\n"), 0o600)
	if line := c.fails("list"); !strings.Contains(line, keyFile+" does not open the sealed keys") {
		t.Errorf("list with another master key: %s", line)
	}
	os.WriteFile(keyFile, saved, 0o600)
	if n := c.count(); n != 1 {
		t.Errorf("list with the key restored: %d certificates, want 1", n)
	}
}

// TestServeTakenPortCreatesNothing: serve binds every listener before it
// creates the inventory, the master key, the CA or the admin user, so a
// taken port fails the start with one line and leaves nothing behind.
func TestServeTakenPortCreatesNothing(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	for _, flag := range []string{"--listen", "--pki-listen", "--agent-listen", "--metrics-listen"} {
		c := newCK(t)
		args := []string{"serve", "--listen", "127.0.0.1:0", "--pki-listen", "127.0.0.1:0", "--agent-listen", "127.0.0.1:0",
			"--metrics-listen", "127.0.0.1:0"}
		for i := range args {
			if args[i] == flag {
				args[i+1] = addr
			}
		}
		line := c.fails(args...)
		if want := flag + " " + addr + ": "; !strings.Contains(line, want) || !strings.Contains(line, "address already in use") {
			t.Errorf("serve with %s taken: %s, want it to name %q and say the address is in use", flag, line, want)
		}
		if got := entries(t, c.dataDir); len(got) != 0 {
			t.Errorf("serve with %s taken left %v in the data directory", flag, got)
		}
		if _, err := os.Stat(c.dataDir); err == nil {
			t.Errorf("serve with %s taken created the data directory", flag)
		}
	}
}

// TestRemoteImportListExport: list, import and export work against a
// server over HTTPS with a token, and the server audits what they do.
func TestRemoteImportListExport(t *testing.T) {
	p := opensslPKI(t)
	c := newCK(t)
	adminToken := tokenFile(t, c, "alice", "admin")
	userToken := tokenFile(t, c, "bob", "user")
	url := startServe(t, c)
	as := func(token string, args ...string) []string {
		return append([]string{"--server", url, "--token-file", token}, args...)
	}
	bundle := p.write(t, "bundle.pem", p.leaf, p.inter, p.root, p.leafKey)
	bad := p.write(t, "bad.pem", p.leaf)
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	if line := c.fails(as(userToken, "import", bundle, bad)...); !strings.Contains(line, "bad.pem") {
		t.Errorf("remote import of a bad file: %s, want it to name the file", line)
	}
	before := c.count()
	var imp struct {
		CertificatesAdded int `json:"certificates_added"`
		KeysAdded         int `json:"keys_added"`
	}
	decodeJSON(t, "import", c.ok(as(userToken, "import", "--json", bundle)...), &imp)
	if imp.CertificatesAdded != 3 || imp.KeysAdded != 1 {
		t.Errorf("remote import added %d certificates and %d keys, want 3 and 1", imp.CertificatesAdded, imp.KeysAdded)
	}
	if n := c.count(); n != before+3 {
		t.Errorf("local list after the remote import: %d certificates, want %d", n, before+3)
	}
	var list struct {
		Certificates []struct {
			ID     int64
			SHA256 string
			KeyID  int64 `json:"key_id"`
		}
	}
	decodeJSON(t, "list", c.ok(as(userToken, "list", "--expiring-within", "30d", "--search", "example.test", "--json")...), &list)
	if len(list.Certificates) != 1 || list.Certificates[0].SHA256 != p.leafSHA256 || list.Certificates[0].KeyID == 0 {
		t.Fatalf("remote list --expiring-within 30d = %+v, want the leaf alone (20 days), with its key", list)
	}
	if text := c.ok(as(userToken, "list")...); !strings.Contains(text, "www.example.test") {
		t.Errorf("remote list:\n%s", text)
	}

	// A user gets the certificates but not the key; an admin gets both.
	if out := c.ok(as(userToken, "export", p.leafSHA256, "--to", "fullchain", "--out", "-")...); strings.Count(out, "BEGIN CERTIFICATE") != 2 {
		t.Errorf("remote export --to fullchain:\n%s", out)
	}
	pfx := filepath.Join(t.TempDir(), "leaf.pfx")
	if line := c.fails(as(userToken, "export", p.leafSHA256, "--to", "pfx", "--out", pfx, "--out-password", "pw")...); !strings.Contains(line, "403") {
		t.Errorf("remote key export as a user: %s, want a 403", line)
	}
	c.ok(as(adminToken, "export", p.leafSHA256, "--to", "pfx", "--out", pfx, "--out-password", "pw")...)
	openssl := testenv.Command(t, "openssl")
	dump, err := osexec.Command(openssl, "pkcs12", "-in", pfx, "-passin", "pass:pw", "-nodes").CombinedOutput()
	if err != nil || strings.Count(string(dump), "BEGIN CERTIFICATE") != 3 || !strings.Contains(string(dump), "PRIVATE KEY") {
		t.Errorf("remote PFX export: %v\n%s", err, dump)
	}
	var events struct {
		Events []struct{ Actor, Action string }
	}
	decodeJSON(t, "audit", c.ok("audit", "--json"), &events)
	got := map[string]string{}
	for _, e := range events.Events {
		got[e.Action] = e.Actor
	}
	for action, actor := range map[string]string{"certificate.import": "user:bob", "key.import": "user:bob", "key.export": "user:alice"} {
		if got[action] != actor {
			t.Errorf("audit: %s by %q, want %s (all: %v)", action, got[action], actor, got)
		}
	}
}

// TestExportToDirectory: export --out DIR writes one clearly named file
// per certificate, and several certificates need a directory.
func TestExportToDirectory(t *testing.T) {
	p := opensslPKI(t)
	c := newCK(t)
	c.ok("import", p.write(t, "b.pem", p.leaf, p.inter, p.root, p.leafKey))
	var list struct {
		Certificates []struct {
			ID     int64
			SHA256 string
		}
	}
	decodeJSON(t, "list", c.ok("list", "--json"), &list)
	ids := map[string]string{}
	for _, cert := range list.Certificates {
		ids[cert.SHA256] = itoa(cert.ID)
	}
	dir := filepath.Join(t.TempDir(), "out") + "/"
	if line := c.fails("export", ids[p.leafSHA256], ids[p.interSHA256], "--to", "pem", "--out", filepath.Join(t.TempDir(), "one.pem")); !strings.Contains(line, "directory") {
		t.Errorf("several certificates to one file: %s", line)
	}
	out := c.ok("export", ids[p.leafSHA256], p.interSHA256, "--to", "pfx", "--out", dir, "--out-password", "pw")
	want := []string{"Test_Intermediate-" + p.interSHA256[:12] + ".pfx", "www.example.test-" + ids[p.leafSHA256] + ".pfx"}
	got := entries(t, dir)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("export --out DIR wrote %v, want %v (printed %q)", got, want, out)
	}
	if fi, _ := os.Stat(filepath.Join(dir, want[1])); fi == nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: want mode 0600 (it holds the key)", want[1])
	}
	if !strings.Contains(out, filepath.Join(dir, want[1])) {
		t.Errorf("export --out DIR does not say where it wrote: %q", out)
	}
}

// TestTargetDeleteAsks: deleting a target says how many deployment
// processes go with it and deletes only when told so.
func TestTargetDeleteAsks(t *testing.T) {
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	c.ok("target", "add", "--name", "m", "--preset", "nginx", "--method", "manual")
	cert := issue(t, c, "--name", "m.example.test")
	c.ok("deploy", cert.id, "m")
	for _, answer := range []string{"", "n\n"} {
		r := c.runWith(answer, "target", "delete", "m")
		if r.code != 1 || !strings.Contains(r.stdout, "its 1 deployment processes?") || !strings.Contains(r.stderr, "nothing deleted") {
			t.Errorf("target delete answered %q: exit %d, stdout %q, stderr %q; want the question and a refusal", answer, r.code, r.stdout, r.stderr)
		}
	}
	if r := c.run("target", "show", "m"); r.code != 0 {
		t.Fatalf("target deleted without a yes: %s", r.stderr)
	}
	if r := c.runWith("y\n", "target", "delete", "m"); r.code != 0 || !strings.Contains(r.stdout, "deleted target m") {
		t.Errorf("target delete answered y: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	c.ok("target", "add", "--name", "m2", "--preset", "nginx", "--method", "manual")
	if out := c.ok("target", "delete", "m2", "--yes"); !strings.Contains(out, "0 deployment processes") {
		t.Errorf("target delete --yes: %q", out)
	}
}

// runWith runs the binary with stdin as its standard input.
func (c *ck) runWith(stdin string, args ...string) result {
	c.t.Helper()
	cmd := osexec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "CERTKEEPER_DATA_DIR="+c.dataDir, "CERTKEEPER_DATABASE=", "CERTKEEPER_MASTER_KEY=")
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*osexec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run %v: %v", args, err)
	}
	return result{stdout.String(), stderr.String(), code}
}
