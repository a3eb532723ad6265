package main

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

func TestVersionAndHelp(t *testing.T) {
	c := newCK(t)
	if out := c.ok("version"); !strings.HasPrefix(out, "certkeeper ") {
		t.Errorf("version = %q", out)
	}
	help := c.ok("help")
	for _, cmd := range []string{"inspect", "convert", "import", "list", "export", "rekey", "serve"} {
		if !strings.Contains(help, cmd) {
			t.Errorf("help does not mention %q:\n%s", cmd, help)
		}
	}
	if _, err := os.Stat(c.dataDir); err == nil {
		t.Error("version/help created the data directory")
	}
}

type inspectJSON struct {
	Kind         string
	Certificates []struct {
		Subject, SHA256, SHA1 string
		SANs                  []string
		IsCA                  bool `json:"is_ca"`
	}
	Key *struct {
		Type        string
		Bits        int
		MatchesLeaf bool `json:"matches_leaf"`
	}
	Findings []string
}

func inspect(t *testing.T, c *ck, args ...string) inspectJSON {
	t.Helper()
	var v inspectJSON
	out := c.ok(append([]string{"inspect", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("inspect --json output is not one JSON object: %v\n%s", err, out)
	}
	return v
}

func TestInspectFile(t *testing.T) {
	p := opensslPKI(t)
	c := newCK(t)
	bundle := p.write(t, "shuffled.pem", p.root, p.leafKey, p.leaf, p.inter)
	v := inspect(t, c, "--ca-file", p.root, bundle)
	var got []string
	for _, cert := range v.Certificates {
		got = append(got, cert.SHA256)
	}
	if want := []string{p.leafSHA256, p.interSHA256, p.rootSHA256}; !slices.Equal(got, want) {
		t.Errorf("certificate order = %v, want leaf, intermediate, root %v", got, want)
	}
	if v.Key == nil || !v.Key.MatchesLeaf || v.Key.Type != "rsa" || v.Key.Bits != 2048 {
		t.Errorf("key = %+v, want rsa 2048 matching the leaf", v.Key)
	}
	if !slices.Equal(v.Findings, []string{"expires_soon"}) {
		t.Errorf("findings = %v, want [expires_soon] (leaf valid 20 days)", v.Findings)
	}
	if !slices.Equal(v.Certificates[0].SANs, []string{"www.example.test", "example.test"}) {
		t.Errorf("SANs = %v", v.Certificates[0].SANs)
	}
	if v := inspect(t, c, "--ca-file", p.root, "--expires-soon", "10d", bundle); len(v.Findings) != 0 {
		t.Errorf("findings with --expires-soon 10d = %v, want none", v.Findings)
	}
	if v := inspect(t, c, bundle); !slices.Contains(v.Findings, "untrusted_root") {
		t.Errorf("findings against system roots = %v, want untrusted_root", v.Findings)
	}
	text := c.ok("inspect", "--ca-file", p.root, bundle)
	for _, want := range []string{"(leaf)", "(intermediate)", "(root)", "matches the leaf", "expires_soon", "days left"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
}

func TestImportListExport(t *testing.T) {
	p := opensslPKI(t)
	c := newCK(t)
	bundle := p.write(t, "bundle.pem", p.leaf, p.root, p.inter, p.leafKey)
	var imp struct {
		CertificatesAdded int `json:"certificates_added"`
		KeysAdded         int `json:"keys_added"`
	}
	out := c.ok("import", "--json", bundle)
	if err := json.Unmarshal([]byte(out), &imp); err != nil {
		t.Fatalf("import --json: %v\n%s", err, out)
	}
	if imp.CertificatesAdded != 3 || imp.KeysAdded != 1 {
		t.Fatalf("first import added %d certificates and %d keys, want 3 and 1:\n%s", imp.CertificatesAdded, imp.KeysAdded, out)
	}
	if out := c.ok("import", bundle); !strings.Contains(out, "0 certificates added, 3 already present; 0 keys added, 1 already present") {
		t.Errorf("second import is not idempotent:\n%s", out)
	}
	if n := c.count(); n != 3 {
		t.Fatalf("list total = %d, want 3", n)
	}
	var expiring struct {
		Total        int
		Certificates []struct {
			ID     int64
			SHA256 string
			KeyID  int64 `json:"key_id"`
		}
	}
	json.Unmarshal([]byte(c.ok("list", "--expiring-within", "30d", "--json")), &expiring)
	if expiring.Total != 1 || expiring.Certificates[0].SHA256 != p.leafSHA256 || expiring.Certificates[0].KeyID == 0 {
		t.Fatalf("list --expiring-within 30d = %+v, want only the leaf, with its key", expiring)
	}
	leafID := expiring.Certificates[0].ID
	var tl struct {
		Expired int
		Weeks   []struct{ Count int }
	}
	json.Unmarshal([]byte(c.ok("timeline", "--weeks", "4", "--json")), &tl)
	if len(tl.Weeks) != 4 || tl.Weeks[2].Count != 1 || tl.Weeks[0].Count+tl.Weeks[1].Count+tl.Weeks[3].Count != 0 {
		t.Errorf("timeline = %+v, want the leaf (20 days) alone in the third week", tl)
	}
	pfx := filepath.Join(t.TempDir(), "out.pfx")
	c.ok("export", itoa(leafID), "--to", "pfx", "--out", pfx, "--out-password", "s3cret")
	if fi, _ := os.Stat(pfx); fi == nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("exported PFX with a key: mode %v, want 0600", fi.Mode().Perm())
	}
	openssl := testenv.Command(t, "openssl")
	dump, err := exec.Command(openssl, "pkcs12", "-in", pfx, "-passin", "pass:s3cret", "-nodes").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl pkcs12 cannot read the export: %v\n%s", err, dump)
	}
	if strings.Count(string(dump), "BEGIN CERTIFICATE") != 3 || !strings.Contains(string(dump), "PRIVATE KEY") {
		t.Errorf("exported PFX does not hold 3 certificates and the key:\n%s", dump)
	}
	if msg := c.fails("export", itoa(leafID), "--to", "pfx", "--out", pfx, "--out-password", "x"); !strings.Contains(msg, "--force") {
		t.Errorf("overwriting an export: %s", msg)
	}
	if out := c.ok("export", p.leafSHA256, "--to", "cert", "--out", "-"); !strings.Contains(out, "BEGIN CERTIFICATE") {
		t.Errorf("export to stdout = %q", out)
	}
	events := auditActions(t, c)
	if !slices.Contains(events, "key.export") || !slices.Contains(events, "key.import") || !slices.Contains(events, "certificate.import") {
		t.Errorf("audit actions = %v, want key.import, certificate.import and key.export", events)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func privRSA(t *testing.T, k any) *rsa.PrivateKey {
	t.Helper()
	r, ok := k.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("key is %T, want RSA", k)
	}
	return r
}

func auditActions(t *testing.T, c *ck) []string {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(c.dataDir, "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	evs, _, err := st.ListAudit(context.Background(), time.Time{}, inventory.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Action)
	}
	return out
}

func TestBadInputStoresNothing(t *testing.T) {
	p := opensslPKI(t)
	openssl := testenv.Command(t, "openssl")
	dir := t.TempDir()
	good := p.write(t, "good.pem", p.leaf, p.inter)
	pfx := filepath.Join(dir, "good.pfx")
	if out, err := exec.Command(openssl, "pkcs12", "-export", "-in", p.leaf, "-inkey", p.leafKey, "-out", pfx, "-passout", "pass:right").CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	leafPEM, _ := os.ReadFile(p.leaf)
	hostileJKS := []byte{0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0xff, 0xff}
	hostileJKS = append(hostileJKS, make([]byte, 21)...)
	files := map[string][]byte{
		"garbage.pem":   []byte("this is not a certificate\n"),
		"empty.crt":     {},
		"truncated.pem": leafPEM[:len(leafPEM)/2],
		"hostile.jks":   hostileJKS,
		"random.der":    {0x30, 0x82, 0xff, 0xff, 1, 2, 3},
	}
	c := newCK(t)
	for name, data := range files {
		path := filepath.Join(dir, name)
		os.WriteFile(path, data, 0o600)
		t.Run(name, func(t *testing.T) {
			msg := c.fails("import", good, path)
			if !strings.Contains(msg, name) {
				t.Errorf("error does not name the file: %s", msg)
			}
			c.fails("inspect", path)
			c.fails("convert", path, "--to", "pem", "--out", filepath.Join(dir, "x.pem"))
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		const given = "Tr0ub4dor-guess"
		msg := c.fails("import", "--password", given, good, pfx)
		if !strings.Contains(msg, "wrong password") || strings.Contains(msg, given) {
			t.Errorf("wrong-password error = %q, want one saying \"wrong password\" without the password given", msg)
		}
	})
	t.Run("missing file", func(t *testing.T) { c.fails("import", good, filepath.Join(dir, "nope.pem")) })
	t.Run("bad flags", func(t *testing.T) {
		c.fails("convert", good, "--to", "docx", "--out", filepath.Join(dir, "x"))
		c.fails("list", "--expiring-within", "soon")
		c.fails("export", "abc", "--to", "pem", "--out", "-")
		c.fails("nosuchcommand")
	})
	if n := c.count(); n != 0 {
		t.Fatalf("after only failed imports the inventory holds %d certificates, want 0", n)
	}
}

func TestPrivateKeysNeverAtRestInClear(t *testing.T) {
	p := opensslPKI(t)
	c := newCK(t)
	keyPEM, _ := os.ReadFile(p.leafKey)
	block, _ := pem.Decode(keyPEM)
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	pkcs1 := x509.MarshalPKCS1PrivateKey(privRSA(t, priv))
	secrets := map[string][]byte{
		"PKCS#8 DER": der, "PKCS#1 DER": pkcs1, "private exponent": privRSA(t, priv).D.Bytes(),
		"prime": privRSA(t, priv).Primes[0].Bytes(), "PEM body": []byte(strings.Split(string(keyPEM), "\n")[1]),
	}
	outputs := c.ok("import", p.write(t, "b.pem", p.leaf, p.leafKey)) + c.ok("list", "--json") +
		c.ok("inspect", "--json", p.leafKey)
	serveLog := runServe(t, c)
	entries, _ := os.ReadDir(c.dataDir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(c.dataDir, e.Name()))
		for what, s := range secrets {
			if len(s) > 0 && strings.Contains(string(data), string(s)) {
				t.Errorf("%s found in clear in %s", what, e.Name())
			}
		}
	}
	for what, s := range secrets {
		if strings.Contains(outputs+serveLog, string(s)) {
			t.Errorf("%s found in command output or logs", what)
		}
	}
}

func TestRekey(t *testing.T) {
	p := opensslPKI(t)
	c := newCK(t)
	c.ok("import", p.write(t, "b.pem", p.leaf, p.leafKey))
	keyFile := filepath.Join(c.dataDir, "master.key")
	before, _ := os.ReadFile(keyFile)
	if out := c.ok("rekey"); !strings.Contains(out, "1 keys re-encrypted") {
		t.Fatalf("rekey output = %q", out)
	}
	after, _ := os.ReadFile(keyFile)
	if string(before) == string(after) {
		t.Fatal("master key file unchanged after rekey")
	}
	if _, err := os.Stat(keyFile + ".new"); err == nil {
		t.Fatal("pending master key left behind")
	}
	c.ok("export", p.leafSHA256, "--to", "key", "--out", filepath.Join(t.TempDir(), "k.pem"))
	old := filepath.Join(t.TempDir(), "old.key")
	os.WriteFile(old, before, 0o600)
	msg := c.fails("--master-key-file", old, "export", p.leafSHA256, "--to", "key", "--out", "-")
	if !strings.Contains(msg, "master key") {
		t.Errorf("export with the retired master key: %s", msg)
	}
}

// runServe starts "certkeeper serve", checks the health endpoints on both
// listeners (HTTPS verified against the default CA), stops it with SIGTERM
// and returns what it logged.
func runServe(t *testing.T, c *ck) string {
	t.Helper()
	s := serve(t, c)
	hc := c.httpsClient(t)
	for _, url := range []string{s.URL + "/healthz", s.URL + "/readyz", s.PKI + "/healthz"} {
		resp, err := hc.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d %s", url, resp.StatusCode, body)
		}
	}
	s.stop(t)
	return s.logs.String()
}

func TestInspectEndpoint(t *testing.T) {
	p := opensslPKI(t)
	openssl := testenv.Command(t, "openssl")
	c := newCK(t)
	chainFile := p.write(t, "both.pem", p.inter, p.root)
	tests := []struct {
		name  string
		chain bool
		ca    string
		want  []string
	}{
		{"full chain", true, p.root, []string{"expires_soon"}},
		{"intermediate not served, known to the CA bundle", false, chainFile, []string{"expires_soon", "incomplete_chain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"s_server", "-quiet", "-www", "-cert", p.leaf, "-key", p.leafKey}
			if tt.chain {
				args = append(args, "-cert_chain", p.inter)
			}
			addr := startOpenSSL(t, openssl, args)
			v := inspect(t, c, "--servername", "www.example.test", "--ca-file", tt.ca, "--no-fetch", addr)
			if !slices.Equal(v.Findings, tt.want) {
				t.Errorf("findings = %v, want %v", v.Findings, tt.want)
			}
			if v.Kind != "tls" || len(v.Certificates) == 0 || v.Certificates[0].SHA256 != p.leafSHA256 {
				t.Errorf("served leaf = %+v, want %s", v.Certificates, p.leafSHA256)
			}
		})
	}
	t.Run("closed port", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		start := time.Now()
		c.fails("inspect", "--timeout", "2s", addr)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("closed port took %v", d)
		}
	})
}

// TestInspectStartTLS: inspect --starttls upgrades a real slapd's plain
// LDAP listener and shows the certificate the test gave it.
func TestInspectStartTLS(t *testing.T) {
	srv := testenv.StartSlapd(t)
	c := newCK(t)
	sum := sha256.Sum256(srv.Cert.Raw)
	v := inspect(t, c, "--starttls", "ldap", "--no-fetch", srv.Addr)
	if v.Kind != "tls" || len(v.Certificates) != 1 || !strings.EqualFold(strings.ReplaceAll(v.Certificates[0].SHA256, ":", ""), hex.EncodeToString(sum[:])) {
		t.Errorf("served = %+v, want the slapd's certificate %x", v.Certificates, sum)
	}
	if msg := c.fails("inspect", "--starttls", "gopher", srv.Addr); !strings.Contains(msg, `--starttls: unknown STARTTLS protocol "gopher"`) {
		t.Errorf("unknown protocol: %q", msg)
	}
	if msg := c.fails("inspect", "--starttls", "smtp", "--timeout", "2s", srv.Addr); !strings.Contains(msg, "smtp:") {
		t.Errorf("SMTP dialogue with an LDAP server: %q", msg)
	}
}

// startOpenSSL runs openssl s_server on a free loopback port and returns
// the address once it accepts connections.
func startOpenSSL(t *testing.T, openssl string, args []string) string {
	t.Helper()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(openssl, append(args, "-accept", addr)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("openssl s_server did not listen on %s", addr)
	return ""
}

func TestImportProgressBar(t *testing.T) {
	p := opensslPKI(t)
	c := newCK(t)
	r := c.run("import", "--progress", p.root, p.inter, p.leaf)
	if r.code != 0 {
		t.Fatalf("import --progress: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"checking", "storing", "3/3"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("progress output lacks %q: %q", want, r.stderr)
		}
	}
	if r := c.run("import", p.root); r.stderr != "" {
		t.Errorf("a single-file import drew progress: %q", r.stderr)
	}
}
