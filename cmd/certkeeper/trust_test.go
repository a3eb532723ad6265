package main

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
)

// importOne imports file and returns the ID of its first certificate.
func (c *ck) importOne(file string, args ...string) int64 {
	c.t.Helper()
	var v struct {
		Files []struct {
			Certificates []struct{ ID int64 }
		}
	}
	decodeJSON(c.t, "import", c.ok(append(append(args, "import", "--json"), file)...), &v)
	if len(v.Files) != 1 || len(v.Files[0].Certificates) == 0 {
		c.t.Fatalf("import %s: %+v, want its certificates", file, v)
	}
	return v.Files[0].Certificates[0].ID
}

// importAs imports data through the API of the instance at server as the
// user of tokenFile (the import command works locally only) and returns
// the ID of the certificate whose subject contains subject.
func (c *ck) importAs(server, tokenFile string, data []byte, subject string) int64 {
	c.t.Helper()
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		c.t.Fatal(err)
	}
	cl, err := client.New(server, strings.TrimSpace(string(token)), client.WithHTTPClient(c.httpsClient(c.t)))
	if err != nil {
		c.t.Fatal(err)
	}
	res, err := cl.ImportCertificates(c.t.Context(), client.CertificateImport{Data: data})
	if err != nil {
		c.t.Fatalf("import through the API: %v", err)
	}
	for _, cert := range res.Certificates {
		if strings.Contains(cert.Subject, subject) {
			return cert.ID
		}
	}
	c.t.Fatalf("import through the API = %+v, want a certificate of %q", res, subject)
	return 0
}

// TestTrustStoreCLI: list, add, remove and the system-roots switch as the
// local admin, with the refusals a wrong certificate gets.
func TestTrustStoreCLI(t *testing.T) {
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	v := newVendorCA(t)
	rootID := c.importOne(v.Path("root.pem"))
	interID := c.importOne(v.Path("intermediate.pem"))
	if out := c.ok("trust", "list"); !strings.Contains(out, "system roots: on") || !strings.Contains(out, "CA corp") ||
		strings.Contains(out, "Vendor Root") {
		t.Errorf("trust list of a fresh instance:\n%s\nwant system roots on and the corp CA's root only", out)
	}
	if line := c.fails("trust", "add", fmt.Sprint(interID)); !strings.Contains(line, "certificate_id") || !strings.Contains(line, "not self-signed") {
		t.Errorf("trust add of an intermediate: %s, want a certificate_id field error", line)
	}
	c.ok("trust", "add", fmt.Sprint(rootID))
	c.ok("trust", "system-roots", "off")
	if out := c.ok("trust", "list"); !strings.Contains(out, "system roots: off") || !strings.Contains(out, "Vendor Root") ||
		!strings.Contains(out, "cli:") {
		t.Errorf("trust list after add and off:\n%s\nwant the vendor root marked by the local admin and system roots off", out)
	}
	c.ok("trust", "remove", fmt.Sprint(rootID))
	if line := c.fails("trust", "remove", fmt.Sprint(rootID)); !strings.Contains(line, "not a marked root") {
		t.Errorf("trust remove twice: %s, want it said the root is not marked", line)
	}
	if audit := c.ok("audit"); !strings.Contains(audit, "trust.root_add") || !strings.Contains(audit, "trust.root_remove") ||
		!strings.Contains(audit, "trust.system_roots") {
		t.Errorf("audit lacks the trust store changes:\n%s", audit)
	}
}

// TestTrustStoreAttack plays a User against the served binary: importing
// a self-signed root of their own neither makes it trusted for vendor
// uploads nor for deploy checks, and they cannot mark it; once an Admin
// marks it, the same upload is accepted.
func TestTrustStoreAttack(t *testing.T) {
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	c.ok("issuer", "add", "Vendor", "--kind", "manual-vendor", "--url", "https://vendor.example")
	c.ok("product", "add", "--issuer", "Vendor", "--name", "DV SSL", "--level", "DV", "--max-names", "5")
	adminToken := tokenFile(t, c, "alice", "admin")
	userToken := tokenFile(t, c, "mallory", "user")
	url := startServe(t, c)
	as := func(token string, args ...string) []string {
		return append([]string{"--server", url, "--token-file", token}, args...)
	}
	user := func(args ...string) string { t.Helper(); return c.ok(as(userToken, args...)...) }

	evil := newVendorCA(t) // the User's own CA, played by openssl
	rootID := c.importAs(url, userToken, evil.Read("root.pem"), "Vendor Root")
	user("definition", "create", "shop", "--cn", "shop.example.test", "--san", "shop.example.test", "--issuer", "Vendor", "--level", "DV")
	var p acquisitionJSON
	decodeJSON(t, "start", user("acquisition", "start", "shop", "--json"), &p)
	id := fmt.Sprint(p.ID)
	csr := filepath.Join(evil.Dir, "shop.csr")
	user("acquisition", "csr", id, "--out", csr)
	signed := evil.sign(t, csr, "shop", "shop.example.test")

	if line := c.fails(as(userToken, "acquisition", "upload", id, signed)...); !strings.Contains(line, "no trusted root") {
		t.Errorf("upload chained to the User's imported root: %s, want it refused as untrusted", line)
	}
	if line := c.fails(as(userToken, "trust", "add", fmt.Sprint(rootID))...); !strings.Contains(line, "403") {
		t.Errorf("the User marks their root: %s, want 403", line)
	}
	if line := c.fails(as(userToken, "trust", "system-roots", "off")...); !strings.Contains(line, "403") {
		t.Errorf("the User switches the system roots: %s, want 403", line)
	}
	if out := user("trust", "list"); strings.Contains(out, "Vendor Root") {
		t.Errorf("trust list after the User's attempts:\n%s\nwant their root absent", out)
	}

	site := serveChain(t, c, evil, url, userToken)
	c.ok(as(adminToken, "target", "add", "--name", "web", "--preset", "nginx", "--method", "manual", "--dir", "/etc/nginx/tls",
		"--check", site.addr, "--sni", "localhost")...)
	var deps []checkResult
	decodeJSON(t, "deploy", user("deploy", "--json", fmt.Sprint(site.certID), "web"), &deps)
	if len(deps) != 1 {
		t.Fatalf("deploy = %+v, want one deployment", deps)
	}
	got := deployCheck(t, c, deps[0].ID, as(userToken)...)
	if got.LastCheck.Passed || !got.LastCheck.Match || got.LastCheck.ChainVerifies ||
		!strings.Contains(strings.Join(got.LastCheck.Problems, " "), "not trusted") {
		t.Errorf("deploy check of a chain to the unmarked root = %+v, want the served certificate found and its chain untrusted", got.LastCheck)
	}

	c.ok(as(adminToken, "trust", "add", fmt.Sprint(rootID))...)
	val := c.validation("upload", id, signed, "--server", url, "--token-file", userToken)
	if val.Acquisition.State != "issued" || len(val.Chain) != 3 {
		t.Fatalf("upload after the Admin marked the root = %+v, want issued with leaf, intermediate and root", val)
	}
	if got := deployCheck(t, c, deps[0].ID, as(userToken)...); !got.LastCheck.ChainVerifies {
		t.Errorf("deploy check after the Admin marked the root = %+v, want the chain verified", got.LastCheck)
	}
}

// servedSite is a certificate of the User's openssl CA, imported by the
// User with its key, and served with its chain on 127.0.0.1.
type servedSite struct {
	certID int64
	addr   string
}

// serveChain has v sign a certificate for localhost, imports it with its
// key and intermediate through the API as token's user, and serves it
// with the whole chain on a TLS listener of 127.0.0.1.
func serveChain(t *testing.T, c *ck, v vendorCA, server, token string) servedSite {
	t.Helper()
	v.Run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "site.key",
		"-out", "site.csr", "-subj", "/CN=localhost")
	csr, err := os.ReadFile(v.Path("site.csr"))
	if err != nil {
		t.Fatal(err)
	}
	v.Sign("site", csr, "serverAuth", "DNS:localhost")
	chain := slices.Concat(v.Read("site.pem"), v.Read("intermediate.pem"), v.Read("root.pem"))
	site := servedSite{certID: c.importAs(server, token, slices.Concat(v.Read("site.pem"), v.Read("intermediate.pem"), v.Read("site.key")), "CN=localhost")}
	cert, err := tls.X509KeyPair(chain, v.Read("site.key"))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	site.addr = ln.Addr().String()
	return site
}

// checkResult is the part of a deployment's JSON a deploy check fills.
type checkResult struct {
	ID        int64 `json:"id"`
	LastCheck *struct {
		Passed        bool     `json:"passed"`
		Match         bool     `json:"match"`
		ChainVerifies bool     `json:"chain_verifies"`
		Problems      []string `json:"problems"`
	} `json:"last_check"`
}

// deployCheck runs "deployment check ID --json" with args before it.
func deployCheck(t *testing.T, c *ck, id int64, args ...string) checkResult {
	t.Helper()
	r := c.run(append(args, "deployment", "check", fmt.Sprint(id), "--json")...)
	var d checkResult
	decodeJSON(t, "deployment check", r.stdout, &d)
	if d.LastCheck == nil {
		t.Fatalf("deployment check %d: no check in %s\nstderr: %s", id, r.stdout, r.stderr)
	}
	return d
}
