package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRemoteCatalogue runs the definition, catalogue, user, token and
// audit commands against "certkeeper serve" with --server and an API
// token, from a machine without a data directory, and checks that they
// give what the same commands give locally, audited as the token's user.
func TestRemoteCatalogue(t *testing.T) {
	local := newCK(t)
	dir := t.TempDir()
	adminPW := writeFile(t, dir, "alice.pw", "correct horse battery staple\n")
	local.ok("user", "create", "alice", "--role", "admin", "--password-file", adminPW)
	local.ok("user", "create", "bob")
	aliceToken := tokenSecret(t, local.ok("token", "create", "--user", "alice", "--name", "laptop"))
	bobToken := tokenSecret(t, local.ok("token", "create", "--user", "bob", "--name", "laptop"))
	srv := serveAPI(t, local)
	// far has no data directory: every command goes to the server.
	far := &remoteCK{ck: newCK(t), server: srv.base, serverCA: srv.serverCA,
		tokenFile: writeFile(t, dir, "alice.token", aliceToken+"\n")}
	bob := &remoteCK{ck: far.ck, server: srv.base, serverCA: srv.serverCA,
		tokenFile: writeFile(t, dir, "bob.token", bobToken+"\n")}

	secrets := []string{aliceToken, bobToken}
	document := remoteDefinitions(t, local, far)
	secrets = append(secrets, remoteCatalogue(t, local, far)...)
	secrets = append(secrets, remoteUsers(t, local, far, bob)...)

	audit := far.ok("audit", "--json")
	if got := local.ok("audit", "--json"); got != audit {
		t.Errorf("audit --json differs:\nremote: %s\nlocal:  %s", audit, got)
	}
	checkActors(t, audit)
	if _, err := os.Stat(far.dataDir); !os.IsNotExist(err) {
		t.Errorf("the remote commands made a local data directory (%v)", err)
	}
	logs := srv.stop()
	assertAbsent(t, "audit output", audit, append(secrets, document)...)
	assertAbsent(t, "the serve log", logs, append(secrets, document)...)
	assertAbsent(t, "the SQLite database", readDatabase(t, local), secrets...)
}

// remoteDefinitions returns the content of a document it stored.
func remoteDefinitions(t *testing.T, local *ck, far *remoteCK) string {
	far.ok("definition", "create", "shop", "--cn", "shop.example.test", "--san", "shop.example.test",
		"--level", "ov", "--label", "prod", "--target", "web1")
	far.ok("definition", "update", "shop", "--version", "1", "--notes", "first")
	if line := far.fails("definition", "update", "shop", "--version", "1", "--notes", "stale"); !strings.Contains(line, "reload") {
		t.Errorf("stale remote update: %s, want it to say reload", line)
	}
	if line := far.fails("definition", "create", "shop", "--cn", "x.example.test"); !strings.Contains(line, "exists") {
		t.Errorf("duplicate remote definition: %s, want it to say it exists", line)
	}
	if line := far.fails("definition", "create", "bad", "--cn", "a", "--san", "www..example.test"); !strings.Contains(line, "SAN") {
		t.Errorf("bad SAN over the API: %s, want it to name the SAN", line)
	}
	far.ok("definition", "clone", "shop", "shop-test", "--issuer", "Private CA")
	cert := writeSelfSigned(t, "imported.example.test")
	local.ok("import", cert.file)
	if out := far.ok("definition", "import", cert.sha256, "--name", "imported"); !strings.Contains(out, "key not held") {
		t.Errorf("remote definition import: %s", out)
	}
	for _, args := range [][]string{
		{"definition", "show", "shop", "--json"}, {"definition", "show", "shop-test"}, {"definition", "show", "imported", "--json"},
		{"definition", "list", "--json"}, {"definition", "list", "--label", "prod"},
	} {
		sameOutput(t, local, far, args...)
	}
	if d := local.definition("shop-test"); d.Require.Issuer != "Private CA" || d.Require.ValidationLevel != "OV" {
		t.Errorf("remote clone = %+v, want issuer Private CA and level OV", d)
	}

	const doc = "ORDER-SECRET-4417"
	file := writeFile(t, t.TempDir(), "order.txt", doc)
	far.ok("definition", "doc", "add", "shop", file)
	if line := far.fails("definition", "doc", "add", "shop", file); !strings.Contains(line, "already has") {
		t.Errorf("duplicate remote document: %s", line)
	}
	sameOutput(t, local, far, "definition", "doc", "list", "shop", "--json")
	if got := far.ok("definition", "doc", "get", "shop", "order.txt", "--out", "-"); got != doc {
		t.Errorf("remote doc get = %q, want %q", got, doc)
	}
	far.ok("definition", "doc", "rm", "shop", "order.txt")
	far.fails("definition", "doc", "rm", "shop", "order.txt")
	far.fails("definition", "show", "nothing")
	return doc
}

func remoteCatalogue(t *testing.T, local *ck, far *remoteCK) []string {
	far.ok("issuer", "add", "GoodCerts", "--url", "https://goodcerts.example")
	far.fails("issuer", "add", "GoodCerts")
	far.ok("product", "add", "--issuer", "GoodCerts", "--name", "Basic", "--level", "dv", "--max-names", "3")
	far.ok("product", "add", "--issuer", "GoodCerts", "--name", "Wild", "--level", "OV", "--wildcard")
	if line := far.fails("product", "add", "--issuer", "Nobody", "--name", "P", "--level", "DV"); !strings.Contains(line, "Nobody") {
		t.Errorf("product of an unknown issuer: %s", line)
	}
	const password = "Vendor-Pa55word-remote"
	pw := writeFile(t, t.TempDir(), "vendor.pw", password+"\n")
	far.ok("vendor-account", "add", "--issuer", "GoodCerts", "--name", "ops", "--username", "ops@example.test", "--password-file", pw)
	for _, args := range [][]string{
		{"issuer", "list", "--json"}, {"issuer", "list"}, {"product", "list", "--json"},
		{"product", "list", "--issuer", "GoodCerts"}, {"product", "select", "--level", "DV", "--names", "2", "--json"},
		{"product", "select", "--level", "private", "--json"}, {"vendor-account", "list", "--json"}, {"vendor-account", "list"},
	} {
		sameOutput(t, local, far, args...)
	}
	if got := far.ok("product", "select", "--level", "DV", "--wildcard"); !strings.Contains(got, "Wild") || strings.Contains(got, "Basic") {
		t.Errorf("remote product select --wildcard:\n%s", got)
	}
	if got := far.ok("vendor-account", "list", "--json"); !strings.Contains(got, `"has_password":true`) {
		t.Errorf("remote vendor-account list = %s, want the account with a password", got)
	}
	return []string{password}
}

func remoteUsers(t *testing.T, local *ck, far, bob *remoteCK) []string {
	carolPW := oneTimePassword(t, far.ok("user", "create", "carol"))
	far.ok("user", "role", "carol", "admin")
	far.ok("user", "disable", "carol")
	far.ok("user", "enable", "carol")
	reset := oneTimePassword(t, far.ok("user", "reset-password", "carol"))
	far.fails("user", "role", "nobody", "admin")
	sameOutput(t, local, far, "user", "list", "--json")
	if u := local.users()["carol"]; u.Role != "admin" || u.Disabled || !u.MustChangePassword {
		t.Errorf("carol after the remote changes = %+v", u)
	}

	carolToken := tokenSecret(t, far.ok("token", "create", "--user", "carol", "--name", "ci", "--expires", "30d"))
	sameOutput(t, local, far, "token", "list", "--user", "carol", "--json")
	var v struct{ Tokens []struct{ ID int64 } }
	if err := json.Unmarshal([]byte(far.ok("token", "list", "--user", "carol", "--json")), &v); err != nil || len(v.Tokens) != 1 {
		t.Fatalf("token list --user carol: %v, %+v", err, v)
	}
	far.ok("token", "revoke", itoa(v.Tokens[0].ID))
	far.fails("token", "revoke", itoa(v.Tokens[0].ID))

	// A user without the admin role manages their own tokens, and nothing
	// an admin does.
	bobSelf := tokenSecret(t, bob.ok("token", "create", "--user", "bob", "--name", "self"))
	if got := bob.ok("token", "list", "--user", "bob"); strings.Count(got, "laptop") != 1 || strings.Count(got, "self") != 1 {
		t.Errorf("bob's own token list:\n%s", got)
	}
	if line := bob.fails("user", "create", "dave"); !strings.Contains(line, "403") || !strings.Contains(line, "admin role") {
		t.Errorf("user create with a user token: %s, want 403 and the admin role named", line)
	}
	bob.fails("token", "list", "--user", "alice")
	if strings.Contains(local.ok("user", "list"), "dave") {
		t.Error("a refused user create stored the user")
	}
	return []string{carolPW, reset, carolToken, bobSelf}
}

// checkActors checks that the server names the token's user in the
// audit trail, and the local command line the local account.
func checkActors(t *testing.T, audit string) {
	t.Helper()
	var v struct {
		Events []struct{ Actor, Action, Object, Summary string }
	}
	if err := json.Unmarshal([]byte(audit), &v); err != nil {
		t.Fatal(err)
	}
	// Objects are KIND:ID; a named object's summary starts with its name.
	want := map[string]string{
		"definition shop": "user:alice", "definition shop-test": "user:alice", "issuer GoodCerts": "user:alice",
		"vendor-account ops": "user:alice", "user carol": "user:alice", "user alice": "cli:", "user bob": "cli:",
	}
	seen := map[string]bool{}
	for _, e := range v.Events {
		kind, _, _ := strings.Cut(e.Object, ":")
		name, _, _ := strings.Cut(e.Summary, ": ")
		obj := kind + " " + name
		w, ok := want[obj]
		if !ok {
			continue
		}
		seen[obj] = true
		if !strings.HasPrefix(e.Actor, w) {
			t.Errorf("audit %s %s (%s) by %q, want %s", e.Action, e.Object, name, e.Actor, w)
		}
	}
	for obj := range want {
		if !seen[obj] {
			t.Errorf("no audit event on %s", obj)
		}
	}
}

// remoteCK runs commands with --server and --token-file.
type remoteCK struct {
	*ck
	server, tokenFile, serverCA string
}

func (r *remoteCK) args(args []string) []string {
	return append(args, "--server", r.server, "--token-file", r.tokenFile, "--server-ca", r.serverCA)
}

func (r *remoteCK) ok(args ...string) string {
	r.t.Helper()
	return r.ck.ok(r.args(args)...)
}

func (r *remoteCK) fails(args ...string) string {
	r.t.Helper()
	return r.ck.fails(r.args(args)...)
}

// sameOutput runs args locally and remotely and wants the same output.
func sameOutput(t *testing.T, local *ck, far *remoteCK, args ...string) {
	t.Helper()
	got, want := far.ok(args...), local.ok(args...)
	if got != want {
		t.Errorf("certkeeper %s differs:\nremote:\n%s\nlocal:\n%s", strings.Join(args, " "), got, want)
	}
}

var tokenSecretRE = regexp.MustCompile(`secret .*: (ck_[A-Za-z0-9_-]{43})\n`)

func tokenSecret(t *testing.T, out string) string {
	t.Helper()
	m := tokenSecretRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("token create printed no secret:\n%s", out)
	}
	return m[1]
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type selfSignedFile struct{ file, sha256 string }

// writeSelfSigned writes a self-signed leaf certificate as PEM.
func writeSelfSigned(t *testing.T, cn string) selfSignedFile {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		DNSNames: []string{cn}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	file := writeFile(t, t.TempDir(), "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	return selfSignedFile{file: file, sha256: hex.EncodeToString(sum[:])}
}

// apiServer is a running "certkeeper serve".
type apiServer struct {
	base, serverCA string
	stop           func() string // stops it and returns its log
}

// serveAPI starts "certkeeper serve" on a port the kernel picks over c's
// data directory, reads the address it prints, and stops it, by its own
// process ID, when the test ends.
func serveAPI(t *testing.T, c *ck) *apiServer {
	t.Helper()
	s := serve(t, c)
	stop := func() string {
		s.stop(t)
		return s.logs.String()
	}
	return &apiServer{base: s.URL, serverCA: filepath.Join(c.dataDir, "certs", "certkeeper-ca.pem"), stop: stop}
}
