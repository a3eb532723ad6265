package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// binary is the certkeeper executable built once for the process tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "certkeeper-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "certkeeper")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ck runs the binary with a private data directory.
type ck struct {
	t       *testing.T
	dataDir string
	// env is added to the environment of every run, after the defaults.
	env []string
}

func newCK(t *testing.T) *ck {
	return &ck{t: t, dataDir: filepath.Join(t.TempDir(), "data")}
}

type result struct {
	stdout, stderr string
	code           int
}

func (c *ck) run(args ...string) result {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append(os.Environ(), "CERTKEEPER_DATA_DIR="+c.dataDir, "CERTKEEPER_DATABASE=", "CERTKEEPER_MASTER_KEY="), c.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run %v: %v", args, err)
	}
	return result{stdout.String(), stderr.String(), code}
}

// ok runs the binary and fails the test unless it exits 0.
func (c *ck) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("certkeeper %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// fails runs the binary and checks the bad-input contract: exit status 1
// and exactly one line "error: ..." on standard error.
func (c *ck) fails(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 1 {
		c.t.Fatalf("certkeeper %s: exit %d, want 1\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") {
		c.t.Fatalf("certkeeper %s: stderr = %q, want one line starting with \"error: \"", strings.Join(args, " "), r.stderr)
	}
	return lines[0]
}

func (c *ck) count() int {
	c.t.Helper()
	var v struct{ Total int }
	if err := json.Unmarshal([]byte(c.ok("list", "--json")), &v); err != nil {
		c.t.Fatal(err)
	}
	return v.Total
}

// pki is a root -> intermediate -> leaf hierarchy made by openssl.
type pki struct {
	dir                                 string
	root, inter, leaf, leafKey          string
	leafSHA256, interSHA256, rootSHA256 string
}

func opensslPKI(t *testing.T) *pki {
	t.Helper()
	openssl := testenv.Command(t, "openssl")
	dir := t.TempDir()
	p := &pki{dir: dir}
	sh := func(args ...string) {
		t.Helper()
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	os.WriteFile(filepath.Join(dir, "ca.ext"), []byte("basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "leaf.ext"), []byte("basicConstraints=CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:www.example.test,DNS:example.test\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"), 0o644)
	sh("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout", "root.key", "-out", "root.pem", "-subj", "/CN=Test Root", "-days", "3650", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	sh("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "inter.key", "-out", "inter.csr", "-subj", "/CN=Test Intermediate")
	sh("x509", "-req", "-in", "inter.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial", "-out", "inter.pem", "-days", "1825", "-extfile", "ca.ext")
	sh("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=www.example.test")
	sh("x509", "-req", "-in", "leaf.csr", "-CA", "inter.pem", "-CAkey", "inter.key", "-CAcreateserial", "-out", "leaf.pem", "-days", "20", "-extfile", "leaf.ext")
	p.root, p.inter, p.leaf, p.leafKey = filepath.Join(dir, "root.pem"), filepath.Join(dir, "inter.pem"), filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "leaf.key")
	p.leafSHA256 = fingerprint(t, openssl, p.leaf)
	p.interSHA256 = fingerprint(t, openssl, p.inter)
	p.rootSHA256 = fingerprint(t, openssl, p.root)
	return p
}

func fingerprint(t *testing.T, openssl, file string) string {
	t.Helper()
	out, err := exec.Command(openssl, "x509", "-in", file, "-noout", "-fingerprint", "-sha256").Output()
	if err != nil {
		t.Fatal(err)
	}
	_, fp, _ := strings.Cut(strings.TrimSpace(string(out)), "=")
	return strings.ToLower(strings.ReplaceAll(fp, ":", ""))
}

func (p *pki) write(t *testing.T, name string, parts ...string) string {
	t.Helper()
	var buf bytes.Buffer
	for _, f := range parts {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
	}
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
