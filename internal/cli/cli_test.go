package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// result is what one run of the command line gave.
type result struct {
	stdout, stderr string
	err            error
}

// run runs the command line in process with the data directory dir, a
// fake environment (more overrides it) and captured output.
func run(t *testing.T, dir string, more map[string]string, args ...string) result {
	t.Helper()
	env := map[string]string{"CERTKEEPER_DATA_DIR": dir, "USER": "tester", "HOME": dir}
	for k, v := range more {
		env[k] = v
	}
	var stdout, stderr bytes.Buffer
	err := Execute(context.Background(), args, Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] }, Version: "1.2.3-test",
	})
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// certFile writes a self-signed certificate for name followed by its key
// as PEM into dir and returns the file's path.
func certFile(t *testing.T, dir, name string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(60 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	path := filepath.Join(dir, name+".pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// want is what a case expects of a run.
type want struct {
	// errHas, when set, is in the one-line error; "" wants success.
	errHas string
	// outHas are in standard output.
	outHas []string
	// json decodes standard output into a fresh value of its type and
	// checks it.
	json func(t *testing.T, out []byte)
}

func (c want) verify(t *testing.T, r result) {
	t.Helper()
	switch {
	case c.errHas == "" && r.err != nil:
		t.Fatalf("error %v, want success (stderr %q)", r.err, r.stderr)
	case c.errHas != "" && r.err == nil:
		t.Fatalf("success, want an error with %q (stdout %q)", c.errHas, r.stdout)
	case c.errHas != "" && (!strings.Contains(r.err.Error(), c.errHas) || strings.Contains(r.err.Error(), "\n")):
		t.Fatalf("error %q, want one line with %q", r.err, c.errHas)
	}
	for _, s := range c.outHas {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
	if c.json != nil {
		c.json(t, []byte(r.stdout))
	}
}

// jsonField wants standard output to be a JSON object whose field key,
// decoded, equals want (compared as JSON).
func jsonField(key string, want any) func(t *testing.T, out []byte) {
	return func(t *testing.T, out []byte) {
		t.Helper()
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(out, &obj); err != nil {
			t.Fatalf("output is not a JSON object: %v\n%s", err, out)
		}
		w, _ := json.Marshal(want)
		if string(obj[key]) != string(w) {
			t.Errorf("JSON %s = %s, want %s", key, obj[key], w)
		}
	}
}

// jsonLen wants standard output to hold a JSON object whose field key is
// an array of n elements.
func jsonLen(key string, n int) func(t *testing.T, out []byte) {
	return func(t *testing.T, out []byte) {
		t.Helper()
		var obj map[string]json.RawMessage
		var list []json.RawMessage
		if err := json.Unmarshal(out, &obj); err != nil {
			t.Fatalf("output is not a JSON object: %v\n%s", err, out)
		}
		if err := json.Unmarshal(obj[key], &list); err != nil || len(list) != n {
			t.Errorf("JSON %s = %s (%v), want an array of %d", key, obj[key], err, n)
		}
	}
}

// TestReadOnlyCommandsOnEmptyDataDir runs the commands that must find an
// inventory on an empty data directory: each fails in one line and
// creates nothing (see inventoryCreators).
func TestReadOnlyCommandsOnEmptyDataDir(t *testing.T) {
	for _, args := range [][]string{
		{"list"}, {"list", "--json"}, {"timeline"}, {"export", "1", "--to", "pem", "--out", "x.pem"},
		{"key", "list"}, {"audit"}, {"rekey"}, {"monitor", "list"}, {"alert", "list"}, {"notify", "list"},
		{"jobs", "list"}, {"digest"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			r := run(t, dir, nil, args...)
			want{errHas: "no inventory"}.verify(t, r)
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("%v created the data directory %s", args, dir)
			}
		})
	}
}

// TestImportCreatesInventory checks the other side of the rule: import,
// an inventory creator, starts the inventory in an empty data directory.
func TestImportCreatesInventory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	r := run(t, dir, nil, "import", certFile(t, t.TempDir(), "new.example.test"))
	want{outHas: []string{"1 certificates added, 0 already present; 1 keys added, 0 already present"}}.verify(t, r)
	for _, name := range []string{"certkeeper.db", "master.key"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("import did not create %s: %v", name, err)
		}
	}
}

// TestCommands runs commands against one inventory holding one imported
// certificate with its key.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	files := t.TempDir()
	pemFile := certFile(t, files, "www.example.test")
	imported := run(t, dir, nil, "import", "--json", pemFile)
	want{json: func(t *testing.T, out []byte) {
		jsonField("certificates_added", 1)(t, out)
		jsonField("keys_added", 1)(t, out)
	}}.verify(t, imported)
	out := filepath.Join(files, "out")
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want
	}{
		{name: "version", args: []string{"version"}, want: want{outHas: []string{"certkeeper 1.2.3-test ("}}},
		{name: "unknown command", args: []string{"frobnicate"}, want: want{errHas: "unknown command"}},
		{name: "list extra argument", args: []string{"list", "x"}, want: want{errHas: "unknown command \"x\""}},
		{name: "list text", args: []string{"list"},
			want: want{outHas: []string{"ID", "EXPIRES", "DAYS", "STATUS", "KEY", "SUBJECT", "ISSUER", "www.example.test", "1 of 1 shown"}}},
		{name: "list json", args: []string{"list", "--json"}, want: want{json: jsonLen("certificates", 1)}},
		{name: "list json total", args: []string{"list", "--json"}, want: want{json: jsonField("total", 1)}},
		{name: "list nothing matches", args: []string{"list", "--search", "nomatch"}, want: want{outHas: []string{"no certificates match"}}},
		{name: "list bad limit", args: []string{"list", "--limit", "0"}, want: want{errHas: "--limit must be between 1 and"}},
		{name: "list bad days", args: []string{"list", "--expiring-within", "soon"}, want: want{errHas: "--expiring-within"}},
		{name: "import without files", args: []string{"import"}, want: want{errHas: "requires at least 1 arg"}},
		{name: "import missing file", args: []string{"import", filepath.Join(files, "missing.pem")}, want: want{errHas: "missing.pem"}},
		{name: "import again adds nothing", args: []string{"import", pemFile},
			want: want{outHas: []string{"0 certificates added, 1 already present; 0 keys added, 1 already present"}}},
		{name: "inspect", args: []string{"inspect", pemFile}, want: want{outHas: []string{"www.example.test"}}},
		{name: "export without target", args: []string{"export", "1", "--out", out + ".x"}, want: want{errHas: `required flag(s) "to" not set`}},
		{name: "export bad reference", args: []string{"export", "abc", "--to", "pem", "--out", out + ".a"},
			want: want{errHas: "neither a certificate ID nor a SHA-256 fingerprint"}},
		{name: "export unknown", args: []string{"export", "99", "--to", "pem", "--out", out + ".b"}, want: want{errHas: "not found"}},
		{name: "export pem", args: []string{"export", "1", "--to", "combined-pem", "--out", out + ".pem"}},
		{name: "key list text", args: []string{"key", "list"},
			want: want{outHas: []string{"ID", "ALGORITHM", "BITS", "CREATED", "SPKI SHA-256", "LABELS", "ecdsa"}}},
		{name: "key list json", args: []string{"key", "list", "--json"}, want: want{json: jsonLen("items", 1)}},
		{name: "key show bad id", args: []string{"key", "show", "abc"}, want: want{errHas: "abc"}},
		{name: "key show", args: []string{"key", "show", "1"}, want: want{outHas: []string{"key 1", "Certificates with this key: 1"}}},
		{name: "key export without format", args: []string{"key", "export", "1", "--out", out + ".k"},
			want: want{errHas: "required flag(s) \"format\" not set"}},
		{name: "key export pfx without password", args: []string{"key", "export", "1", "--format", "pfx", "--out", out + ".pfx"},
			want: want{errHas: "--format pfx needs --password-file or --password"}},
		{name: "key export unknown key", args: []string{"key", "export", "9", "--format", "pem", "--out", out + ".9"},
			want: want{errHas: "no key 9"}},
		{name: "rekey refuses the key in the environment", args: []string{"rekey"},
			env: map[string]string{"CERTKEEPER_MASTER_KEY": "x"}, want: want{errHas: "rekey needs a master key file"}},
		{name: "kit create without out", args: []string{"kit", "create", "--server-name", "a.test"},
			want: want{errHas: "required flag(s) \"out\" not set"}},
		{name: "timeline", args: []string{"timeline"}},
		{name: "timeline json", args: []string{"timeline", "--json"}, want: want{json: func(t *testing.T, out []byte) {
			if !json.Valid(out) {
				t.Errorf("timeline --json is not JSON:\n%s", out)
			}
		}}},
		{name: "inspect json", args: []string{"inspect", "--json", pemFile}, want: want{json: func(t *testing.T, out []byte) {
			if !json.Valid(out) {
				t.Errorf("inspect --json is not JSON:\n%s", out)
			}
		}}},
		{name: "convert without input", args: []string{"convert", "--to", "der", "--out", out + ".der"}, want: want{errHas: "arg"}},
		{name: "audit lists the key export", args: []string{"audit"},
			want: want{outHas: []string{"key.export", "private key exported as combined-pem with certificate 1 and its chain"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.verify(t, run(t, dir, tc.env, tc.args...))
		})
	}
	if _, err := os.Stat(out + ".pem"); err != nil {
		t.Errorf("export wrote no file: %v", err)
	}
	for _, suffix := range []string{".a", ".b", ".k", ".pfx", ".9"} {
		if _, err := os.Stat(out + suffix); err == nil {
			t.Errorf("a refused export wrote %s", out+suffix)
		}
	}
}

// TestCACommands runs the local CA commands on one inventory: first
// without a CA, then with one made by "ca init", which "ca list", "ca
// export", "ca crl", "ca issue" and "timeline" find through the one stack
// of services.
func TestCACommands(t *testing.T) {
	dir := t.TempDir()
	files := t.TempDir()
	run(t, dir, nil, "import", certFile(t, files, "www.example.test"))
	for _, tc := range []struct {
		name string
		args []string
		want
	}{
		{name: "ca list empty", args: []string{"ca", "list"}, want: want{outHas: []string{"ID  NAME  STATUS  DEFAULT  SUBJECT  EXPIRES"}}},
		{name: "ca list json empty", args: []string{"ca", "list", "--json"}, want: want{outHas: []string{"[]"}}},
		{name: "ca export without CA", args: []string{"ca", "export", "--to", "pem", "--out", "-"},
			want: want{errHas: "ca: there is no default CA; name one with --ca"}},
		{name: "ca export unknown CA", args: []string{"ca", "export", "--ca", "nope", "--to", "pem", "--out", "-"},
			want: want{errHas: `ca: no CA is called "nope"`}},
		{name: "ca crl without CA", args: []string{"ca", "crl", "--out", "-"},
			want: want{errHas: `there is no default CA yet: "certkeeper serve" creates one at first start`}},
		{name: "ca crl unknown CA", args: []string{"ca", "crl", "--ca", "nope", "--out", "-"}, want: want{errHas: `no CA named "nope"`}},
		{name: "ca init", args: []string{"ca", "init", "--name", "test-ca"},
			want: want{outHas: []string{"created CA test-ca (root test-ca-root), the default CA"}}},
		{name: "ca list", args: []string{"ca", "list"}, want: want{outHas: []string{"test-ca-root", "test-ca ", "yes", "CN=test-ca"}}},
		{name: "ca list json", args: []string{"ca", "list", "--json"}, want: want{json: func(t *testing.T, out []byte) {
			var cas []caJSON
			if err := json.Unmarshal(out, &cas); err != nil {
				t.Fatalf("ca list --json: %v\n%s", err, out)
			}
			if len(cas) != 2 || cas[1].Name != "test-ca" || !cas[1].Default || cas[1].Subject == "" || cas[1].NotAfter == "" {
				t.Errorf("ca list --json = %+v, want the root and the default CA test-ca with their certificates", cas)
			}
		}}},
		{name: "ca export", args: []string{"ca", "export", "--to", "pem", "--out", "-"}, want: want{outHas: []string{"-----BEGIN CERTIFICATE-----"}}},
		{name: "ca crl", args: []string{"ca", "crl", "--ca", "test-ca", "--out", "-"}, want: want{outHas: []string{"-----BEGIN X509 CRL-----"}}},
		{name: "ca issue", args: []string{"ca", "issue", "--name", "a.example.test", "--days", "30", "--to", "pem",
			"--out", filepath.Join(files, "a.pem")}},
		{name: "timeline counts every certificate", args: []string{"timeline", "--json"}, want: want{json: func(t *testing.T, out []byte) {
			var tl timeline
			if err := json.Unmarshal(out, &tl); err != nil {
				t.Fatalf("timeline --json: %v\n%s", err, out)
			}
			n := tl.Expired
			for _, w := range tl.Weeks {
				n += w.Count
			}
			if n != 2 {
				t.Errorf("timeline counts %d certificates in 13 weeks, want 2 (the import and the issued one):\n%s", n, out)
			}
		}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.verify(t, run(t, dir, nil, tc.args...))
		})
	}
}
