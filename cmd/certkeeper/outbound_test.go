package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
)

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	accepted atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

func countingListen(t *testing.T) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &countingListener{Listener: ln}
}

func (l *countingListener) port() string {
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// attackerPKI is a root and a leaf for 127.0.0.1 whose OCSP responder
// URL is ocspURL, as a User could upload: the PEM of leaf, root and key.
func attackerPKI(t *testing.T, ocspURL string) (tls.Certificate, []byte) {
	t.Helper()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Attacker Root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(12 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		OCSPServer: []string{ocspURL}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(leafKey)
	var file []byte
	for _, b := range []*pem.Block{{Type: "CERTIFICATE", Bytes: leafDER}, {Type: "CERTIFICATE", Bytes: rootDER},
		{Type: "PRIVATE KEY", Bytes: keyDER}} {
		file = append(file, pem.EncodeToMemory(b)...)
	}
	return tls.Certificate{Certificate: [][]byte{leafDER, rootDER}, PrivateKey: leafKey}, file
}

// apiClient is a client of the served instance with the token in file.
func apiClient(t *testing.T, c *ck, url, tokenFile string) *client.Client {
	t.Helper()
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(url, strings.TrimSpace(string(token)), client.WithHTTPClient(c.httpsClient(t)))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// TestOutboundPolicyStopsCheckScans is the port scan a User could run
// through deploy checks: a certificate whose OCSP responder URL names an
// internal service. Without a policy the check reports the service's
// answer; once an Admin denies that port, the service accepts nothing
// and the check says only that the policy refused. Denying the checked
// server itself refuses the probe the same way.
func TestOutboundPolicyStopsCheckScans(t *testing.T) {
	c := newCK(t)
	adminToken := tokenFile(t, c, "alice", "admin")
	userToken := tokenFile(t, c, "bob", "user")
	s := serve(t, c)
	ctx := context.Background()
	admin, user := apiClient(t, c, s.URL, adminToken), apiClient(t, c, s.URL, userToken)

	internal := countingListen(t) // the "internal service" the certificate points at
	go http.Serve(internal, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "internal admin console", http.StatusTeapot)
	}))
	cert, file := attackerPKI(t, "http://127.0.0.1:"+internal.port()+"/")
	site := countingListen(t) // the User's own server, serving the certificate
	go http.Serve(tls.NewListener(site, &tls.Config{Certificates: []tls.Certificate{cert}}), http.NotFoundHandler())

	sitePort, _ := strconv.Atoi(site.port())
	target, err := admin.CreateTarget(ctx, client.TargetInput{Name: "users-site", Preset: "nginx", Method: "manual",
		Directory: "/etc/nginx/tls", Check: client.CheckSpec{Host: "127.0.0.1", Port: sitePort}})
	if err != nil {
		t.Fatal(err)
	}
	imported, err := user.ImportCertificates(ctx, client.CertificateImport{Data: file})
	if err != nil {
		t.Fatal(err)
	}
	// OCSP is asked only for issuers of the trust store: the scan needs a
	// root an Admin trusts (a corporate CA whose certificates name an
	// internal responder, say).
	if _, err := admin.AddTrustRoot(ctx, rootOf(t, user, imported)); err != nil {
		t.Fatal(err)
	}
	d, err := user.StartDeployment(ctx, client.DeploymentStart{CertificateID: imported.Certificates[0].ID, TargetID: target.ID})
	if err != nil {
		t.Fatal(err)
	}
	check := func() *client.CheckResult {
		t.Helper()
		got, err := user.CheckDeployment(ctx, d.ID)
		if err != nil || got.LastCheck == nil {
			t.Fatalf("check: %+v, %v", got, err)
		}
		return got.LastCheck
	}

	// The finding: with no policy, the service's answer comes back.
	r := check()
	if problems := strings.Join(r.Problems, "\n"); !strings.Contains(problems, "418") || internal.accepted.Load() == 0 {
		t.Fatalf("without a policy the check should reach the service and report its answer; problems:\n%s", problems)
	}

	before := internal.accepted.Load()
	if _, err := admin.SetOutboundPolicy(ctx, client.OutboundPolicy{Deny: []string{"127.0.0.1:" + internal.port()}}); err != nil {
		t.Fatal(err)
	}
	r = check()
	problems := strings.Join(r.Problems, "\n")
	want := "connection to 127.0.0.1:" + internal.port() + " is not allowed by the outbound policy"
	if !strings.Contains(problems, want) || strings.Contains(problems, "418") {
		t.Errorf("problems = %q; want %q and nothing of the service's answer", problems, want)
	}
	if n := internal.accepted.Load(); n != before {
		t.Errorf("the denied service accepted %d more connections", n-before)
	}

	// Denying the checked server refuses the probe before it connects.
	siteBefore := site.accepted.Load()
	if _, err := admin.SetOutboundPolicy(ctx, client.OutboundPolicy{Deny: []string{"127.0.0.0/8:" + site.port()}}); err != nil {
		t.Fatal(err)
	}
	r = check()
	if want := "connection to 127.0.0.1:" + site.port() + " is not allowed by the outbound policy"; r.Passed || !strings.Contains(r.Error, want) {
		t.Errorf("check of a denied server = passed %v, error %q; want %q", r.Passed, r.Error, want)
	}
	if n := site.accepted.Load(); n != siteBefore {
		t.Errorf("the denied server accepted %d connections", n-siteBefore)
	}
}

func TestOutboundCommands(t *testing.T) {
	c := newCK(t)
	if msg := c.fails("outbound", "show"); !strings.Contains(msg, "no inventory") {
		t.Errorf("outbound show without an inventory: %s", msg)
	}
	c.ok("outbound", "set", "--clear") // may start an inventory, as a first setting before serve
	if out := c.ok("outbound", "show"); !strings.Contains(out, "everything not denied") || !strings.Contains(out, "169.254.0.0/16") {
		t.Errorf("outbound show on a new inventory:\n%s", out)
	}
	for args, says := range map[string]string{
		"set --allow 10.0.0.0/8:0":                 "allow: port",
		"set --deny 10.0.0.1/8":                    "deny:",
		"set":                                      "--clear",
		"set --clear --allow 10.0.0.0/8":           "--clear",
		"set --allow [fd00::/8]":                   "allow:",
		"set --allow 10.0.0.0/8 --deny nonsense/x": "deny:",
	} {
		if msg := c.fails(append([]string{"outbound"}, strings.Fields(args)...)...); !strings.Contains(msg, says) {
			t.Errorf("outbound %s: %s; want it to say %q", args, msg, says)
		}
	}
	c.ok("outbound", "set", "--allow", "10.0.0.0/8:443,8443", "--allow", "[fd00::/8]:443", "--deny", "10.9.0.0/16")
	var p client.OutboundPolicy
	decodeJSON(t, "show", c.ok("outbound", "show", "--json"), &p)
	if strings.Join(p.Allow, " ") != "10.0.0.0/8:443,8443 [fd00::/8]:443" || strings.Join(p.Deny, " ") != "10.9.0.0/16" {
		t.Errorf("policy after set = %+v", p)
	}
	if out := c.ok("audit"); !strings.Contains(out, "outbound.update") {
		t.Errorf("the change is not in the audit trail:\n%s", out)
	}
	c.ok("outbound", "set", "--clear")
	decodeJSON(t, "show", c.ok("outbound", "show", "--json"), &p)
	if len(p.Allow)+len(p.Deny) != 0 {
		t.Errorf("policy after --clear = %+v; want no rules", p)
	}
}

// rootOf returns the ID of the self-signed certificate an import stored.
func rootOf(t *testing.T, u *client.Client, res *client.ImportResult) int64 {
	t.Helper()
	for _, c := range res.Certificates {
		got, err := u.GetCertificate(t.Context(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.SelfSigned {
			return c.ID
		}
	}
	t.Fatalf("the import stored no self-signed certificate: %+v", res)
	return 0
}
