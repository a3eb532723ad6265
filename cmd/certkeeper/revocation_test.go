package main

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestRevocationEndToEnd runs "certkeeper serve" with an external URL,
// issues a certificate carrying that URL, and checks CRLs and OCSP with
// the real openssl before and after "certkeeper ca revoke".
func TestRevocationEndToEnd(t *testing.T) {
	e := newE2E(t)
	// Before revocation.
	if out := e.ocsp("-cert", e.f.leaf); !strings.Contains(out, e.f.leaf+": good") || !strings.Contains(out, "Response verify OK") {
		t.Fatalf("openssl ocsp before revocation:\n%s\nwant good, verified", out)
	}
	crl1 := e.fetchCRL("crl1")
	if out := e.must("verify", "-crl_check", "-CAfile", e.f.root, "-untrusted", e.f.inter, "-CRLfile", crl1+".pem", e.f.leaf); !strings.Contains(out, ": OK") {
		t.Fatalf("openssl verify -crl_check before revocation:\n%s", out)
	}
	n1 := crlNumber(t, e.must("crl", "-in", crl1+".der", "-inform", "DER", "-noout", "-text"))

	out := e.c.ok("ca", "revoke", strconv.FormatInt(e.leaf.id, 10), "--reason", "keyCompromise")
	t.Logf("ca revoke: %s", out)
	if !strings.Contains(out, "keyCompromise") {
		t.Errorf("ca revoke printed %q, want the reason", out)
	}
	msg := e.c.fails("ca", "revoke", fingerprintOf(e.leaf.cert))
	t.Logf("ca revoke, again: %s", msg)
	if !strings.Contains(msg, "already revoked") {
		t.Errorf("second revoke: %s", msg)
	}
	e.checkRevoked(n1)
	e.checkOCSPEdges()
}

// checkRevoked checks OCSP, the CRL and chain validation after the leaf
// was revoked for keyCompromise; the CRL number must exceed before.
func (e *e2e) checkRevoked(before int) {
	t := e.t
	if out := e.ocsp("-cert", e.f.leaf); !strings.Contains(out, e.f.leaf+": revoked") || !strings.Contains(out, "Reason: keyCompromise") {
		t.Fatalf("openssl ocsp after revocation:\n%s\nwant revoked, keyCompromise", out)
	}
	crl := e.fetchCRL("crl2")
	text := e.must("crl", "-in", crl+".der", "-inform", "DER", "-noout", "-text")
	if n := crlNumber(t, text); n <= before {
		t.Errorf("CRL number after revocation = %d, want more than %d", n, before)
	}
	serial := strings.ToUpper(e.leaf.cert.SerialNumber.Text(16))
	if !strings.Contains(strings.ToUpper(text), serial) || !strings.Contains(text, "Key Compromise") {
		t.Errorf("CRL text does not list serial %s with Key Compromise:\n%s", serial, text)
	}
	out, err := e.run("verify", "-crl_check", "-CAfile", e.f.root, "-untrusted", e.f.inter, "-CRLfile", crl+".pem", e.f.leaf)
	if err == nil || !strings.Contains(out, "certificate revoked") {
		t.Errorf("openssl verify -crl_check after revocation: %v\n%s\nwant \"certificate revoked\"", err, out)
	}
}

// checkOCSPEdges: a serial never issued, the GET form, a malformed request.
func (e *e2e) checkOCSPEdges() {
	t := e.t
	if out := e.ocsp("-serial", "0x1234567890"); !strings.Contains(out, "0x1234567890: unknown") {
		t.Errorf("openssl ocsp for a serial never issued:\n%s\nwant unknown", out)
	}
	resp := filepath.Join(e.dir, "get.der")
	os.WriteFile(resp, ocspGET(t, e.ocspURL, e.leaf.cert, e.leaf.chain[0]), 0o644)
	if out := e.must("ocsp", "-respin", resp, "-issuer", e.f.inter, "-cert", e.f.leaf, "-CAfile", e.f.chain, "-no_nonce"); !strings.Contains(out, e.f.leaf+": revoked") {
		t.Errorf("openssl ocsp -respin (response to a GET request):\n%s\nwant revoked", out)
	}
	os.WriteFile(resp, ocspPOST(t, e.ocspURL, []byte("this is not an OCSP request")), 0o644)
	if out, _ := e.run("ocsp", "-respin", resp, "-resp_text"); !strings.Contains(out, "malformedrequest") {
		t.Errorf("openssl ocsp -respin (response to a malformed request):\n%s\nwant malformedrequest", out)
	}
}

// e2e is a running "certkeeper serve", a certificate it published URLs
// for, and openssl to check them.
type e2e struct {
	t               *testing.T
	c               *ck
	openssl, dir    string
	leaf            *issued
	f               pkiPaths
	ocspURL, crlURL string
}

func newE2E(t *testing.T) *e2e {
	e := &e2e{t: t, c: newCK(t), openssl: testenv.Command(t, "openssl"), dir: t.TempDir()}
	base := servePKI(t, e.c)
	e.leaf = issueCLI(t, e.c, base, "www.revoke.example")
	cert := e.leaf.cert
	if len(cert.OCSPServer) != 1 || !strings.HasPrefix(cert.OCSPServer[0], base+"/pki/ocsp/") || len(cert.CRLDistributionPoints) != 1 {
		t.Fatalf("issued certificate carries OCSP %v and CRL DP %v, want URLs under %s", cert.OCSPServer, cert.CRLDistributionPoints, base)
	}
	e.ocspURL, e.crlURL = cert.OCSPServer[0], cert.CRLDistributionPoints[0]
	e.f = pkiFiles(t, e.dir, e.leaf)
	return e
}

func (e *e2e) run(args ...string) (string, error) {
	cmd := exec.Command(e.openssl, args...)
	cmd.Dir = e.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (e *e2e) must(args ...string) string {
	e.t.Helper()
	out, err := e.run(args...)
	if err != nil {
		e.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// ocsp asks the leaf's OCSP URL with openssl, verifying the response
// against the CA chain.
func (e *e2e) ocsp(extra ...string) string {
	e.t.Helper()
	return e.must(append([]string{"ocsp", "-issuer", e.f.inter, "-url", e.ocspURL, "-CAfile", e.f.chain, "-no_nonce"}, extra...)...)
}

func (e *e2e) fetchCRL(stem string) string {
	e.t.Helper()
	return fetchCRL(e.t, e.crlURL, filepath.Join(e.dir, stem))
}

// TestCACRLCommand writes the CRL with "certkeeper ca crl" in both
// encodings and checks the one-line errors of the revocation commands.
func TestCACRLCommand(t *testing.T) {
	openssl := testenv.Command(t, "openssl")
	c := newCK(t)
	if msg := c.fails("ca", "crl", "--out", filepath.Join(t.TempDir(), "x.crl")); !strings.Contains(msg, "no inventory at") {
		t.Errorf("ca crl without an inventory: %s", msg)
	}
	c.ok("user", "create", "someone")
	if msg := c.fails("ca", "crl", "--out", filepath.Join(t.TempDir(), "x.crl")); !strings.Contains(msg, "no default CA") {
		t.Errorf("ca crl without a CA: %s", msg)
	}
	leaf := issueCLI(t, c, servePKI(t, c), "www.crl.example")
	c.ok("ca", "revoke", fingerprintOf(leaf.cert), "--reason", "superseded")
	dir := t.TempDir()
	der, pemFile := filepath.Join(dir, "ca.crl"), filepath.Join(dir, "ca.crl.pem")
	c.ok("ca", "crl", "--out", der)
	c.ok("ca", "crl", "--ca", "default", "--out", pemFile, "--pem")
	for _, in := range [][]string{{"-in", der, "-inform", "DER"}, {"-in", pemFile}} {
		out, err := exec.Command(openssl, append([]string{"crl", "-noout", "-text"}, in...)...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Superseded") {
			t.Errorf("openssl crl %v: %v\n%s\nwant a superseded entry", in, err, out)
		}
	}
	for args, want := range map[string]string{
		"ca revoke 1 --reason certificateHold": "not accepted",
		"ca revoke 1 --reason stolen":          "unknown reason",
		"ca revoke nonsense":                   "neither a certificate ID",
		"ca crl --ca nosuch --out x":           "no CA named",
		"ca crl":                               "--out FILE is required",
	} {
		if msg := c.fails(strings.Fields(args)...); !strings.Contains(msg, want) {
			t.Errorf("certkeeper %s: %s, want %q", args, msg, want)
		}
	}
}

// servePKI starts "certkeeper serve" with its plain-HTTP listener on a
// free loopback port and that address as its external URL. It returns the
// base URL.
func servePKI(t *testing.T, c *ck) string {
	t.Helper()
	addr := freeAddr(t)
	base := "http://" + addr
	serve(t, c, "--pki-listen", addr, "--external-url", base)
	return base
}

// issued is a certificate "certkeeper ca issue" made, with its chain.
type issued struct {
	id    int64
	cert  *x509.Certificate
	chain []*x509.Certificate // issuing CA first, root last
}

var issuedRE = regexp.MustCompile(`issued certificate (\d+),`)

// issueCLI issues a TLS server certificate from the default CA with
// "certkeeper ca issue", publication URLs under base, on the inventory
// the serve process uses.
func issueCLI(t *testing.T, c *ck, base, name string) *issued {
	t.Helper()
	out := filepath.Join(t.TempDir(), "issued.pem")
	cmd := exec.Command(binary, "ca", "issue", "--profile", "tls-server", "--name", name, "--to", "pem", "--out", out)
	// "ca issue" and "serve" share the external URL setting.
	cmd.Env = append(os.Environ(), "CERTKEEPER_DATA_DIR="+c.dataDir, "CERTKEEPER_DATABASE=", "CERTKEEPER_MASTER_KEY=",
		"CERTKEEPER_EXTERNAL_URL="+base)
	msg, err := cmd.CombinedOutput()
	m := issuedRE.FindSubmatch(msg)
	if err != nil || m == nil {
		t.Fatalf("certkeeper ca issue: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var certs []*x509.Certificate
	for b, rest := pem.Decode(data); b != nil; b, rest = pem.Decode(rest) {
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	if len(certs) < 3 {
		t.Fatalf("ca issue --to pem wrote %d certificates, want leaf, intermediate and root", len(certs))
	}
	id, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return &issued{id: id, cert: certs[0], chain: certs[1:]}
}

type pkiPaths struct{ leaf, inter, root, chain string }

// pkiFiles writes the leaf, its issuing CA, the root and both CAs (chain)
// as PEM files.
func pkiFiles(t *testing.T, dir string, iss *issued) pkiPaths {
	t.Helper()
	write := func(name string, certs ...*x509.Certificate) string {
		var buf bytes.Buffer
		for _, c := range certs {
			pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		}
		if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	return pkiPaths{
		leaf:  write("leaf.pem", iss.cert),
		inter: write("inter.pem", iss.chain[0]),
		root:  write("root.pem", iss.chain[len(iss.chain)-1]),
		chain: write("chain.pem", iss.chain...),
	}
}

// fetchCRL downloads a CRL and writes it as stem.der and stem.pem.
func fetchCRL(t *testing.T, url, stem string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	der, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pkix-crl" {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	os.WriteFile(stem+".der", der, 0o644)
	os.WriteFile(stem+".pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644)
	return stem
}

var crlNumberRE = regexp.MustCompile(`X509v3 CRL Number:\s*\n\s*(\d+)`)

func crlNumber(t *testing.T, text string) int {
	t.Helper()
	m := crlNumberRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no CRL number in:\n%s", text)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// ocspGET sends the request for leaf in the GET form of RFC 6960
// appendix A.1 and returns the response body.
func ocspGET(t *testing.T, base string, leaf, issuer *x509.Certificate) []byte {
	t.Helper()
	der, err := ocsp.CreateRequest(leaf, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(base + "/" + url.PathEscape(base64.StdEncoding.EncodeToString(der)))
	return httpBody(t, resp, err)
}

func ocspPOST(t *testing.T, u string, body []byte) []byte {
	t.Helper()
	resp, err := http.Post(u, "application/ocsp-request", bytes.NewReader(body))
	return httpBody(t, resp, err)
}

func httpBody(t *testing.T, resp *http.Response, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("%s %s = %d %s: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return b
}

func fingerprintOf(c *x509.Certificate) string { return inventory.SHA256Hex(c.Raw) }
