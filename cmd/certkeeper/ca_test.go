package main

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/testenv"

	_ "modernc.org/sqlite" // to read the crash test's database
)

// ossl runs openssl in dir and returns its combined output.
func ossl(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(testenv.Command(t, "openssl"), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// splitPEM writes each certificate of a PEM file to dir/prefix-N.pem and
// returns the paths and parsed certificates, in file order.
func splitPEM(t *testing.T, file, prefix string) ([]string, []*x509.Certificate) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(filepath.Dir(file), prefix+"-"+string(rune('0'+len(paths)))+".pem")
		if err := os.WriteFile(p, pem.EncodeToMemory(blk), 0o644); err != nil {
			t.Fatal(err)
		}
		paths, certs = append(paths, p), append(certs, c)
	}
	return paths, certs
}

// verifyChain checks a PEM file (leaf, issuers..., root) with
// openssl verify and returns the leaf.
// A legacy CA (no keyUsage extension, as "openssl req -x509" makes
// them) fails openssl's -x509_strict, so legacy turns it off.
func verifyChain(t *testing.T, file, purpose string, legacy ...bool) *x509.Certificate {
	t.Helper()
	paths, certs := splitPEM(t, file, strings.TrimSuffix(filepath.Base(file), ".pem"))
	if len(paths) < 2 {
		t.Fatalf("%s holds %d certificates, want the leaf and its chain", file, len(paths))
	}
	dir := filepath.Dir(file)
	args := []string{"verify", "-CAfile", paths[len(paths)-1]}
	if len(legacy) == 0 {
		args = append(args, "-x509_strict")
	}
	if len(paths) > 2 {
		untrusted := filepath.Join(dir, "untrusted-"+filepath.Base(file))
		var buf bytes.Buffer
		for _, p := range paths[1 : len(paths)-1] {
			b, _ := os.ReadFile(p)
			buf.Write(b)
		}
		os.WriteFile(untrusted, buf.Bytes(), 0o644)
		args = append(args, "-untrusted", untrusted)
	}
	if purpose != "" {
		args = append(args, "-purpose", purpose)
	}
	if out := ossl(t, dir, append(args, paths[0])...); !strings.Contains(out, ": OK") {
		t.Fatalf("openssl verify %s: %s", file, out)
	}
	return certs[0]
}

// caNames returns the names of the CAs in "ca list --json".
func caNames(t *testing.T, c *ck) []string {
	t.Helper()
	var list []struct{ Name, Status string }
	if err := json.Unmarshal([]byte(c.ok("ca", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Name)
	}
	return names
}

func TestCAProfilesVerifyWithOpenSSL(t *testing.T) {
	c := newCK(t)
	dir := t.TempDir()
	c.ok("ca", "init", "--name", "corp", "--org", "Corp Inc")
	cases := []struct {
		profile ca.Profile
		args    []string
		purpose string
	}{
		{ca.TLSServer, []string{"--name", "www.corp.test", "--ip", "10.0.0.7"}, "sslserver"},
		{ca.TLSServer, []string{"--name", "rsa.corp.test", "--key-type", "rsa-2048", "--days", "825"}, "sslserver"},
		{ca.TLSClient, []string{"--cn", "agent-7"}, "sslclient"},
		{ca.TLSServerClient, []string{"--name", "peer.corp.test", "--key-type", "ecdsa-p384"}, "sslclient"},
		{ca.OCSPResponder, nil, ""},
		{ca.SubCA, []string{"--ca", "corp-root", "--cn", "Team CA"}, ""},
	}
	for i, tc := range cases {
		out := filepath.Join(dir, string(tc.profile)+string(rune('a'+i))+".pem")
		c.ok(append([]string{"ca", "issue", "--profile", string(tc.profile), "--to", "pem", "--out", out}, tc.args...)...)
		leaf := verifyChain(t, out, tc.purpose)
		if err := ca.LintCertificate(tc.profile, false, leaf.Raw); err != nil {
			t.Errorf("%s: final certificate: %v", tc.profile, err)
		}
	}
	// Generated keys leave through the format engine, e.g. as a PFX.
	pfx := filepath.Join(dir, "app.pfx")
	c.ok("ca", "issue", "--name", "app.corp.test", "--to", "pfx", "--out", pfx, "--out-password", "pw")
	if out := ossl(t, dir, "pkcs12", "-in", pfx, "-passin", "pass:pw", "-nodes", "-info"); !strings.Contains(out, "PRIVATE KEY") || strings.Count(out, "BEGIN CERTIFICATE") < 2 {
		t.Errorf("openssl pkcs12 -info: want the key and the chain, got:\n%s", out)
	}
}

func TestCASignCSRAndBadInputs(t *testing.T) {
	c := newCK(t)
	dir := t.TempDir()
	c.ok("ca", "init", "--name", "corp", "--permit-dns", "corp.test", "--permit-ip", "10.0.0.0/8")
	ossl(t, dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "app.key", "-out", "app.csr",
		"-subj", "/CN=app.corp.test", "-addext", "subjectAltName=DNS:app.corp.test,IP:10.1.1.1")
	c.ok("ca", "sign", filepath.Join(dir, "app.csr"), "--profile", "tls-server", "--to", "pem", "--out", filepath.Join(dir, "app.pem"))
	leaf := verifyChain(t, filepath.Join(dir, "app.pem"), "sslserver")
	if got := strings.Join(leaf.DNSNames, ","); got != "app.corp.test" || len(leaf.IPAddresses) != 1 {
		t.Errorf("signed CSR names = %s %v, want app.corp.test 10.1.1.1", got, leaf.IPAddresses)
	}
	before := c.count()
	bad := badCSR(t, dir)
	for _, args := range [][]string{
		{"sign", bad, "--profile", "tls-server"},
		{"issue", "--name", "www.other.test"},
		{"issue", "--name", "a.corp.test", "--ip", "192.168.1.1"},
		{"issue", "--name", "a.corp.test", "--days", "826"},
		{"issue", "--name", "a.corp.test", "--profile", "code-signing"},
		{"issue", "--name", "a.corp.test", "--key-type", "dsa"},
		{"issue", "--name", "a.corp.test", "--cn", "other.corp.test"},
		{"issue", "--name", "a.corp.test", "--ca", "nope"},
		{"issue", "--ca", "corp", "--profile", "sub-ca", "--cn", "x"},
	} {
		args = append([]string{"ca"}, args...)
		line := c.fails(append(args, "--to", "pem", "--out", filepath.Join(dir, "x.pem"))...)
		if !strings.HasPrefix(line, "error: ca: ") {
			t.Errorf("%v: %s, want an error: ca: ... line", args, line)
		}
	}
	if after := c.count(); after != before {
		t.Errorf("refused requests stored certificates: %d before, %d after", before, after)
	}
}

// badCSR writes a CSR whose signature does not verify.
func badCSR(t *testing.T, dir string) string {
	t.Helper()
	ossl(t, dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "bad.key",
		"-out", "bad.der", "-outform", "DER", "-subj", "/CN=bad.corp.test", "-addext", "subjectAltName=DNS:bad.corp.test")
	der, err := os.ReadFile(filepath.Join(dir, "bad.der"))
	if err != nil {
		t.Fatal(err)
	}
	der[len(der)-3] ^= 0x55 // inside the signature value
	p := filepath.Join(dir, "bad.csr")
	os.WriteFile(p, der, 0o644)
	return p
}

func TestCAImportOpenSSLPair(t *testing.T) {
	c := newCK(t)
	dir := t.TempDir()
	ossl(t, dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
		"-subj", "/CN=Legacy CA/O=Old Scripts", "-days", "3650")
	ossl(t, dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.crt",
		"-subj", "/CN=Other CA", "-days", "3650")
	ossl(t, dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "leaf.key", "-out", "leaf.crt",
		"-subj", "/CN=not a ca", "-days", "30", "-addext", "basicConstraints=critical,CA:false")
	p := func(n string) string { return filepath.Join(dir, n) }
	for _, args := range [][]string{
		{"--cert", p("leaf.crt"), "--key", p("leaf.key")},
		{"--cert", p("ca.crt"), "--key", p("other.key")},
		{"--cert", p("ca.crt")},
	} {
		c.fails(append([]string{"ca", "import"}, args...)...)
	}
	if names := caNames(t, c); len(names) != 0 {
		t.Fatalf("refused imports stored CAs %v", names)
	}
	c.ok("ca", "import", "--cert", p("ca.crt"), "--key", p("ca.key"), "--name", "legacy")
	c.ok("ca", "issue", "--ca", "legacy", "--name", "old.example.test", "--to", "pem", "--out", p("old.pem"))
	verifyChain(t, p("old.pem"), "sslserver", true)

	ossl(t, dir, "pkcs12", "-export", "-in", "other.crt", "-inkey", "other.key", "-out", "other.pfx", "-passout", "pass:s3cret")
	os.WriteFile(p("pw"), []byte("s3cret\n"), 0o600)
	c.ok("ca", "import", p("other.pfx"), "--password-file", p("pw"), "--name", "other")
	c.ok("ca", "issue", "--ca", "other", "--profile", "tls-client", "--cn", "bob", "--to", "pem", "--out", p("bob.pem"))
	verifyChain(t, p("bob.pem"), "sslclient", true)
}

func TestCASubordinateFlow(t *testing.T) {
	c := newCK(t)
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	ossl(t, dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout", "ent.key",
		"-out", "ent.pem", "-subj", "/CN=Enterprise Root/O=Enterprise", "-days", "3650",
		"-addext", "keyUsage=critical,keyCertSign,cRLSign")
	os.WriteFile(p("ca.ext"), []byte("basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"), 0o644)
	os.WriteFile(p("leaf.ext"), []byte("basicConstraints=critical,CA:false\n"), 0o644)

	c.ok("ca", "init", "--subordinate", "--name", "sub", "--out", p("sub.csr"))
	c.fails("ca", "issue", "--ca", "sub", "--name", "a.test", "--to", "pem", "--out", p("x.pem"))
	ossl(t, dir, "x509", "-req", "-in", "sub.csr", "-CA", "ent.pem", "-CAkey", "ent.key", "-CAcreateserial",
		"-out", "sub.pem", "-days", "1000", "-extfile", "ca.ext")
	ossl(t, dir, "x509", "-req", "-in", "sub.csr", "-CA", "ent.pem", "-CAkey", "ent.key", "-CAcreateserial",
		"-out", "notca.pem", "-days", "1000", "-extfile", "leaf.ext")
	c.fails("ca", "activate", "sub", "--cert", p("notca.pem"), "--chain", p("ent.pem"))
	c.fails("ca", "activate", "sub", "--cert", p("sub.pem"))
	c.fails("ca", "activate", "sub", "--cert", p("ent.pem"), "--chain", p("ent.pem"))
	c.ok("ca", "activate", "sub", "--cert", p("sub.pem"), "--chain", p("ent.pem"))
	c.fails("ca", "activate", "sub", "--cert", p("sub.pem"), "--chain", p("ent.pem"))

	c.ok("ca", "issue", "--ca", "sub", "--name", "intranet.corp.test", "--to", "pem", "--out", p("leaf.pem"))
	if out := ossl(t, dir, "verify", "-x509_strict", "-CAfile", "ent.pem", "-untrusted", "sub.pem", "-purpose", "sslserver", "leaf.pem"); !strings.Contains(out, ": OK") {
		t.Fatalf("openssl verify: %s", out)
	}
}

// TestCACrashSafety kills a process issuing certificates with 8 workers
// (SIGKILL, at random moments, 20 times, restarting it on the same SQLite
// database) and proves that every serial it printed, which it does only
// after Issue returned, is stored with its certificate and audit event,
// and that no serial was used twice.
func TestCACrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process 20 times")
	}
	c := newCK(t)
	c.ok("ca", "init", "--name", "crash")
	var printed []string
	for round := range 20 {
		got := runAndKill(t, c, time.Duration(50+rand.IntN(351))*time.Millisecond)
		t.Logf("round %d: %d serials printed before SIGKILL", round, len(got))
		printed = append(printed, got...)
	}
	if len(printed) == 0 {
		t.Fatal("no certificate was issued before the kills")
	}
	checkCrashDB(t, filepath.Join(c.dataDir, "certkeeper.db"), printed)
}

// runAndKill starts "ca batch-issue", kills it after d and returns the
// complete lines it printed.
func runAndKill(t *testing.T, c *ck, d time.Duration) []string {
	t.Helper()
	cmd := exec.Command(binary, "ca", "batch-issue", "--workers", "8")
	cmd.Env = append(os.Environ(), "CERTKEEPER_DATA_DIR="+c.dataDir, "CERTKEEPER_DATABASE=", "CERTKEEPER_MASTER_KEY=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan []string)
	go func() {
		var got []string
		sc := bufio.NewReader(out)
		for {
			line, err := sc.ReadString('\n')
			if err != nil { // a partial last line was cut by the kill
				lines <- got
				return
			}
			got = append(got, strings.TrimSpace(line))
		}
	}()
	time.Sleep(d)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	got := <-lines
	if err := cmd.Wait(); err == nil {
		t.Fatal("batch-issue exited by itself before the kill")
	}
	return got
}

// checkCrashDB proves the crash test's claims on the database.
func checkCrashDB(t *testing.T, path string, printed []string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seen := make(map[string]bool)
	for _, serial := range printed {
		if seen[serial] {
			t.Fatalf("serial %s printed twice", serial)
		}
		seen[serial] = true
		var certs, audits int
		err := db.QueryRow(`SELECT count(*) FROM serials s JOIN certificates c ON c.id = s.certificate_id
			WHERE s.serial = ? AND c.serial = ?`, serial, serial).Scan(&certs)
		if err == nil {
			err = db.QueryRow(`SELECT count(*) FROM audit_events a JOIN certificates c ON a.object = 'certificate:' || c.id
				WHERE a.action = 'ca.issue' AND c.serial = ?`, serial).Scan(&audits)
		}
		if err != nil || certs != 1 || audits != 1 {
			t.Fatalf("printed serial %s: %d certificates, %d audit events (%v); want 1 and 1", serial, certs, audits, err)
		}
	}
	for _, q := range []string{
		"SELECT count(*) FROM (SELECT serial FROM certificates GROUP BY serial HAVING count(*) > 1)",
		"SELECT count(*) FROM (SELECT serial FROM serials GROUP BY serial HAVING count(*) > 1)",
		"SELECT count(*) FROM (SELECT certificate_id FROM serials WHERE certificate_id IS NOT NULL GROUP BY certificate_id HAVING count(*) > 1)",
	} {
		var dup int
		if err := db.QueryRow(q).Scan(&dup); err != nil || dup != 0 {
			t.Fatalf("%s = %d (%v), want 0", q, dup, err)
		}
	}
	var recorded, reserved int
	db.QueryRow("SELECT count(*) FROM serials WHERE certificate_id IS NOT NULL").Scan(&recorded)
	db.QueryRow("SELECT count(*) FROM serials").Scan(&reserved)
	t.Logf("%d serials printed, %d certificates recorded, %d serials reserved", len(printed), recorded, reserved)
}
