package deploy

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// ckCert is a certificate made by a test with its key.
type ckCert struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// ckPKI is a root, an intermediate it signed, and leaves the intermediate
// signs.
type ckPKI struct {
	root, inter *ckCert
}

const ckName = "www.example.test"

func newCKPKI(t testing.TB, org string) *ckPKI {
	t.Helper()
	root := ckIssue(t, &x509.Certificate{Subject: pkix.Name{Organization: []string{org}, CommonName: org + " Root"}, IsCA: true}, nil)
	inter := ckIssue(t, &x509.Certificate{Subject: pkix.Name{Organization: []string{org}, CommonName: org + " Issuing CA"}, IsCA: true}, root)
	return &ckPKI{root: root, inter: inter}
}

// leaf issues a server certificate for names (DNS names or IP literals),
// valid from notBefore to notAfter.
func (p *ckPKI) leaf(t testing.TB, notBefore, notAfter time.Time, names ...string) *ckCert {
	t.Helper()
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: names[0]}, NotBefore: notBefore, NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	return ckIssue(t, tmpl, p.inter)
}

// good issues a leaf for ckName and 127.0.0.1 valid from an hour ago for
// 90 days.
func (p *ckPKI) good(t testing.TB) *ckCert {
	return p.leaf(t, time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour), ckName, "127.0.0.1")
}

func (p *ckPKI) want(leaf *ckCert) Want {
	return Want{Leaf: leaf.cert, Intermediates: []*x509.Certificate{p.inter.cert}, Roots: certPool([]*x509.Certificate{p.root.cert})}
}

// ckIssue signs tmpl with parent, or self-signs it when parent is nil.
// Zero dates (CAs) mean from ten years ago for twenty years.
func ckIssue(t testing.TB, tmpl *x509.Certificate, parent *ckCert) *ckCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber, _ = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().AddDate(-10, 0, 0), time.Now().AddDate(10, 0, 0)
	}
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if tmpl.IsCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	signer := &ckCert{tmpl, key}
	if parent != nil {
		signer = parent
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer.cert, key.Public(), signer.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &ckCert{c, key}
}

// tlsCert is leaf with its key, serving leaf then chain.
func tlsCert(leaf *ckCert, chain ...*ckCert) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{leaf.cert.Raw}, PrivateKey: leaf.key, Leaf: leaf.cert}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.cert.Raw)
	}
	return tc
}

func certsPEM(certs ...*ckCert) []byte {
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw})...)
	}
	return b
}

// startTLS serves cert on 127.0.0.1 until the test ends and returns the
// port. clientCAs non-nil demands a client certificate they issued, over
// TLS 1.2, where the handshake itself fails without one (in TLS 1.3 the
// client finishes before the server refuses).
func startTLS(t *testing.T, cert tls.Certificate, clientCAs *x509.CertPool) int {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, clientCAs
		cfg.MaxVersion = tls.VersionTLS12
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				c.(*tls.Conn).Handshake()
				c.Read(make([]byte, 1))
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().(*net.TCPAddr).Port
}

func hasProblem(r *inventory.CheckResult, parts ...string) bool {
	for _, p := range r.Problems {
		if containsAll(p, parts...) {
			return true
		}
	}
	return false
}

func containsAll(s string, parts ...string) bool {
	for _, part := range parts {
		if !strings.Contains(s, part) {
			return false
		}
	}
	return true
}

// verdict is the part of a result most tests assert.
type verdict struct {
	Passed, Match, IntermediatesServed, ChainVerifies, NameMatches bool
}

func verdictOf(r *inventory.CheckResult) verdict {
	return verdict{r.Passed, r.Match, r.IntermediatesServed, r.ChainVerifies, r.NameMatches}
}

func TestCheckServers(t *testing.T) {
	p := newCKPKI(t, "Check")
	good := p.good(t)
	other := p.leaf(t, time.Now().Add(-time.Hour), time.Now().Add(30*24*time.Hour), "old.example.test")
	expired := p.leaf(t, time.Now().Add(-60*24*time.Hour), time.Now().Add(-49*time.Hour), ckName)
	tests := []struct {
		name    string
		served  tls.Certificate
		want    *ckCert
		sni     string
		verdict verdict
		days    int
		problem []string // parts of one problem
	}{
		{"full chain", tlsCert(good, p.inter), good, ckName, verdict{true, true, true, true, true}, 89, nil},
		{"full chain with root", tlsCert(good, p.inter, p.root), good, ckName, verdict{true, true, true, true, true}, 89, nil},
		{"missing intermediate", tlsCert(good), good, ckName, verdict{false, true, false, false, true}, 89,
			[]string{"CN=Check Issuing CA,O=Check", "clients", "full chain", "fullchain.pem"}},
		{"wrong leaf", tlsCert(other, p.inter), good, ckName, verdict{false, false, true, true, false}, 29,
			[]string{"CN=old.example.test", inventory.SHA256Hex(other.cert.Raw), dateOf(other.cert.NotAfter), "reloaded"}},
		{"expired", tlsCert(expired, p.inter), expired, ckName, verdict{false, true, true, true, true}, -3,
			[]string{"expired on " + dateOf(expired.cert.NotAfter)}},
		{"ip literal, no SNI", tlsCert(good, p.inter), good, "", verdict{true, true, true, true, true}, 89, nil},
		{"name mismatch does not fail", tlsCert(good, p.inter), good, "intranet.local", verdict{true, true, true, true, false}, 89,
			[]string{`"intranet.local"`, ckName}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			port := startTLS(t, tt.served, nil)
			spec := inventory.CheckSpec{Host: "127.0.0.1", Port: port, SNI: tt.sni}
			r := Check(context.Background(), spec, p.want(tt.want), CheckOptions{Timeout: 10 * time.Second})
			if r.Error != "" {
				t.Fatalf("Error = %q", r.Error)
			}
			if got := verdictOf(r); got != tt.verdict {
				t.Errorf("verdict = %+v, want %+v; problems: %q", got, tt.verdict, r.Problems)
			}
			if r.DaysLeft != tt.days {
				t.Errorf("DaysLeft = %d, want %d", r.DaysLeft, tt.days)
			}
			t.Logf("problems: %q", r.Problems)
			if tt.problem == nil && len(r.Problems) > 0 {
				t.Errorf("Problems = %q, want none", r.Problems)
			}
			if tt.problem != nil && !hasProblem(r, tt.problem...) {
				t.Errorf("no problem with %q in %q", tt.problem, r.Problems)
			}
			wantName := tt.sni
			if wantName == "" {
				wantName = "127.0.0.1"
			}
			assertObserved(t, r, "127.0.0.1:"+strconv.Itoa(port), wantName, tt.served.Leaf, tt.want.cert)
		})
	}
}

// assertObserved checks the fields every observed check sets.
func assertObserved(t *testing.T, r *inventory.CheckResult, addr, serverName string, served, want *x509.Certificate) {
	t.Helper()
	checks := []struct{ field, got, want string }{
		{"Address", r.Address, addr},
		{"ServerName", r.ServerName, serverName},
		{"Source", r.Source, SourceProbe},
		{"ExpectedSHA256", r.ExpectedSHA256, inventory.SHA256Hex(want.Raw)},
		{"ServedSHA256", r.ServedSHA256, inventory.SHA256Hex(served.Raw)},
		{"ServedSHA1", r.ServedSHA1, inventory.SHA1Hex(served.Raw)},
		{"ServedSubject", r.ServedSubject, served.Subject.String()},
		{"Protocol", r.Protocol, "TLS 1.3"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if r.CipherSuite == "" || r.Time.IsZero() {
		t.Errorf("CipherSuite = %q, Time = %v: want both set", r.CipherSuite, r.Time)
	}
}

func TestCheckMutualTLS(t *testing.T) {
	p := newCKPKI(t, "MTLS")
	good := p.good(t)
	client := p.leaf(t, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour), "client.example.test")
	port := startTLS(t, tlsCert(good, p.inter), certPool([]*x509.Certificate{p.root.cert}))
	spec := inventory.CheckSpec{Host: "127.0.0.1", Port: port, SNI: ckName}

	r := Check(context.Background(), spec, p.want(good), CheckOptions{Timeout: 10 * time.Second, Source: SourceAgent})
	if r.Passed || r.Error == "" || strings.Contains(r.Error, "\n") || r.ServedSHA256 != "" {
		t.Errorf("without a client certificate: Passed %v, Error %q, ServedSHA256 %q: want a one-line error and nothing observed", r.Passed, r.Error, r.ServedSHA256)
	}
	if r.Source != SourceAgent {
		t.Errorf("Source = %q, want %q", r.Source, SourceAgent)
	}
	cc := tlsCert(client, p.inter)
	r = Check(context.Background(), spec, p.want(good), CheckOptions{Timeout: 10 * time.Second, ClientCertificate: &cc})
	if !r.Passed || r.Error != "" {
		t.Errorf("with a client certificate: Passed %v, Error %q, Problems %q; want passed", r.Passed, r.Error, r.Problems)
	}
}

func TestCheckUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	want := Want{ExpectedSHA256: strings.Repeat("AB", 32)}
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	r := Check(context.Background(), inventory.CheckSpec{Host: "127.0.0.1", Port: port}, want, CheckOptions{Now: func() time.Time { return fixed }})
	if r == nil {
		t.Fatal("Check returned nil")
	}
	if r.Passed || !strings.Contains(r.Error, "refused") || strings.Contains(r.Error, "\n") {
		t.Errorf("Passed %v, Error %q: want failed with a one-line connection refused", r.Passed, r.Error)
	}
	if r.Address != "127.0.0.1:"+strconv.Itoa(port) || r.ServerName != "127.0.0.1" || r.Source != SourceProbe || !r.Time.Equal(fixed) {
		t.Errorf("Address %q, ServerName %q, Source %q, Time %v", r.Address, r.ServerName, r.Source, r.Time)
	}
	if r.ExpectedSHA256 != strings.Repeat("ab", 32) {
		t.Errorf("ExpectedSHA256 = %q, want lowercase", r.ExpectedSHA256)
	}
	r = Check(context.Background(), inventory.CheckSpec{}, want, CheckOptions{})
	if r == nil || r.Passed || r.Error != "no host to check" {
		t.Errorf("Check without a host = %+v, want failed with an error", r)
	}
}

func TestCheckAddress(t *testing.T) {
	tests := []struct {
		spec inventory.CheckSpec
		want string
	}{
		{inventory.CheckSpec{Host: "example.test"}, "example.test:443"},
		{inventory.CheckSpec{Host: "example.test", Port: 8443}, "example.test:8443"},
		{inventory.CheckSpec{Host: "::1"}, "[::1]:443"},
	}
	for _, tt := range tests {
		if got := CheckAddress(tt.spec); got != tt.want {
			t.Errorf("CheckAddress(%+v) = %q, want %q", tt.spec, got, tt.want)
		}
	}
}

// TestCheckOpenSSL checks a real `openssl s_server` serving the full chain
// of a CA played by openssl, with the expectations of a Job.
func TestCheckOpenSSL(t *testing.T) {
	ca := testenv.NewOpenSSLCA(t, "Vendor")
	ca.Run("req", "-new", "-config", "req.cnf", "-subj", "/CN="+ckName, "-newkey", "ec",
		"-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr")
	leaf := ca.Sign("leaf", ca.Read("leaf.csr"), "serverAuth", "DNS:"+ckName)
	port := startSServer(t, ca, "-cert", ca.Path("leaf.pem"), "-key", ca.Path("leaf.key"), "-cert_chain", ca.Path("intermediate.pem"))

	job := Job{ExpectedSHA256: inventory.SHA256Hex(leaf.Raw), Chain: append(ca.Read("intermediate.pem"), ca.Read("root.pem")...),
		Roots: ca.Read("root.pem")}
	want, err := job.Want()
	if err != nil {
		t.Fatal(err)
	}
	r := Check(context.Background(), inventory.CheckSpec{Host: "127.0.0.1", Port: port, SNI: ckName}, want, CheckOptions{Timeout: 10 * time.Second})
	if got := verdictOf(r); got != (verdict{true, true, true, true, true}) || len(r.Problems) > 0 || r.Error != "" {
		t.Errorf("verdict %+v, Error %q, Problems %q: want everything passed", got, r.Error, r.Problems)
	}
	if r.DaysLeft != 9 {
		t.Errorf("DaysLeft = %d, want 9 (a 10-day certificate signed just now)", r.DaysLeft)
	}

	noChain := Job{ExpectedSHA256: job.ExpectedSHA256, Chain: ca.Read("root.pem"), Roots: ca.Read("root.pem")}
	want, err = noChain.Want()
	if err != nil {
		t.Fatal(err)
	}
	want.Intermediates = []*x509.Certificate{testenv.ParseCertPEM(t, ca.Read("intermediate.pem"))}
	port = startSServer(t, ca, "-cert", ca.Path("leaf.pem"), "-key", ca.Path("leaf.key"))
	r = Check(context.Background(), inventory.CheckSpec{Host: "127.0.0.1", Port: port, SNI: ckName}, want, CheckOptions{Timeout: 10 * time.Second})
	if r.Passed || r.IntermediatesServed || !hasProblem(r, "CN=Vendor Issuing CA,O=Vendor") {
		t.Errorf("leaf only: Passed %v, IntermediatesServed %v, Problems %q: want the missing intermediate named", r.Passed, r.IntermediatesServed, r.Problems)
	}
}

// startSServer runs `openssl s_server` with args on a free loopback port
// until the test ends and returns the port. A port taken between choosing
// and binding is retried.
func startSServer(t *testing.T, ca *testenv.OpenSSLCA, args ...string) int {
	t.Helper()
	openssl := testenv.Command(t, "openssl")
	var out bytes.Buffer
	for range 5 {
		port := freePort(t)
		if ok := runSServer(t, openssl, append([]string{"s_server", "-www", "-accept", "127.0.0.1:" + strconv.Itoa(port)}, args...), &out); ok {
			return port
		}
	}
	t.Fatalf("openssl s_server did not start: %s", out.String())
	return 0
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runSServer starts s_server and waits until it accepts connections; it
// reports false if the process exits first or is not ready in 10 seconds.
func runSServer(t *testing.T, openssl string, args []string, out *bytes.Buffer) bool {
	t.Helper()
	out.Reset()
	logFile := filepath.Join(t.TempDir(), "s_server.log")
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(openssl, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("start openssl: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			data, _ := os.ReadFile(logFile)
			out.Write(data)
			return false
		default:
		}
		if data, _ := os.ReadFile(logFile); bytes.Contains(data, []byte("ACCEPT")) {
			return true
		}
	}
	return false
}

func TestEvaluate(t *testing.T) {
	p := newCKPKI(t, "Eval")
	other := newCKPKI(t, "Other")
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	leafFor := func(notBefore, notAfter time.Time) *ckCert { return p.leaf(t, notBefore, notAfter, ckName) }
	good := leafFor(now.Add(-24*time.Hour), now.Add(36*time.Hour))
	foreign := other.leaf(t, now.Add(-time.Hour), now.Add(48*time.Hour), ckName)
	future := leafFor(now.Add(2*time.Hour), now.Add(72*time.Hour))
	tests := []struct {
		name    string
		served  []*ckCert
		want    Want
		verdict verdict
		days    int
		problem []string
	}{
		{"floor of days", []*ckCert{good, p.inter}, p.want(good), verdict{true, true, true, true, true}, 1, nil},
		{"hash only", []*ckCert{good, p.inter}, Want{ExpectedSHA256: strings.ToUpper(inventory.SHA256Hex(good.cert.Raw)), Roots: p.want(good).Roots},
			verdict{true, true, true, true, true}, 1, nil},
		{"leaf wins over hash", []*ckCert{good, p.inter}, Want{Leaf: good.cert, ExpectedSHA256: strings.Repeat("0", 64), Roots: p.want(good).Roots},
			verdict{true, true, true, true, true}, 1, nil},
		{"no expectation", []*ckCert{good, p.inter}, Want{Roots: p.want(good).Roots}, verdict{false, false, true, true, true}, 1,
			[]string{"no expected certificate"}},
		{"untrusted root", []*ckCert{foreign, other.inter, other.root}, Want{Leaf: foreign.cert, Roots: p.want(good).Roots},
			verdict{false, true, true, false, true}, 2, []string{"does not verify", "Other Root", "not trusted"}},
		{"not yet valid", []*ckCert{future, p.inter}, p.want(future), verdict{false, true, true, true, true}, 3,
			[]string{"not valid before " + dateOf(future.cert.NotBefore)}},
		{"missing intermediate explained", []*ckCert{good}, p.want(good), verdict{false, true, false, false, true}, 1,
			[]string{"does not verify", "Eval Issuing CA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var served []*x509.Certificate
			for _, c := range tt.served {
				served = append(served, c.cert)
			}
			r := Evaluate(served, ckName, tt.want, now)
			if got := verdictOf(r); got != tt.verdict {
				t.Errorf("verdict = %+v, want %+v; problems: %q", got, tt.verdict, r.Problems)
			}
			if r.DaysLeft != tt.days {
				t.Errorf("DaysLeft = %d, want %d", r.DaysLeft, tt.days)
			}
			if tt.problem == nil && len(r.Problems) > 0 {
				t.Errorf("Problems = %q, want none", r.Problems)
			}
			if tt.problem != nil && !hasProblem(r, tt.problem...) {
				t.Errorf("no problem with %q in %q", tt.problem, r.Problems)
			}
			if !r.Time.Equal(now) {
				t.Errorf("Time = %v, want %v", r.Time, now)
			}
		})
	}
}

func TestEvaluateDaysLeft(t *testing.T) {
	p := newCKPKI(t, "Days")
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		notAfter time.Time
		days     int
		passed   bool
	}{
		{now.Add(47*time.Hour + 59*time.Minute), 1, true},
		{now.Add(48 * time.Hour), 2, true},
		{now, 0, true},
		{now.Add(-time.Minute), -1, false},
		{now.Add(-25 * time.Hour), -2, false},
	}
	for _, tt := range tests {
		leaf := p.leaf(t, now.Add(-30*24*time.Hour), tt.notAfter, ckName)
		r := Evaluate([]*x509.Certificate{leaf.cert, p.inter.cert}, ckName, p.want(leaf), now)
		if r.DaysLeft != tt.days || r.Passed != tt.passed {
			t.Errorf("notAfter now%+v: DaysLeft %d, Passed %v; want %d, %v (problems %q)", tt.notAfter.Sub(now), r.DaysLeft, r.Passed, tt.days, tt.passed, r.Problems)
		}
	}
}

func TestEvaluateEmpty(t *testing.T) {
	r := Evaluate(nil, ckName, Want{ExpectedSHA256: "ab"}, time.Now())
	if r == nil || r.Passed || r.Error == "" || r.ExpectedSHA256 != "ab" {
		t.Errorf("Evaluate(nil) = %+v: want a failed result with Error", r)
	}
}

func TestJobWant(t *testing.T) {
	p := newCKPKI(t, "Job")
	leaf := p.good(t)
	sum := inventory.SHA256Hex(leaf.cert.Raw)
	w, err := Job{ExpectedSHA256: strings.ToUpper(sum), Chain: certsPEM(p.inter, p.root), Roots: certsPEM(p.root)}.Want()
	if err != nil {
		t.Fatal(err)
	}
	if w.Leaf != nil || w.ExpectedSHA256 != sum {
		t.Errorf("Leaf %v, ExpectedSHA256 %q: want nil and %q", w.Leaf, w.ExpectedSHA256, sum)
	}
	if len(w.Intermediates) != 1 || !w.Intermediates[0].Equal(p.inter.cert) {
		t.Errorf("Intermediates = %d certificates, want the intermediate alone", len(w.Intermediates))
	}
	if _, err := leaf.cert.Verify(x509.VerifyOptions{Roots: w.Roots, Intermediates: certPool(w.Intermediates)}); err != nil {
		t.Errorf("the job's root is not among Roots: %v", err)
	}
	if r := Evaluate([]*x509.Certificate{leaf.cert, p.inter.cert}, ckName, w, time.Now()); !r.Passed {
		t.Errorf("Evaluate with the job's Want: problems %q, want passed", r.Problems)
	}
}

// TestJobWantTrustsOnlyItsRoots: a self-signed certificate of the chain
// is not trusted because it is there; only the job's Roots are.
func TestJobWantTrustsOnlyItsRoots(t *testing.T) {
	p := newCKPKI(t, "JobTrust")
	leaf := p.good(t)
	served := []*x509.Certificate{leaf.cert, p.inter.cert}
	for _, tc := range []struct {
		name string
		job  Job
	}{
		{"root in the chain only", Job{Chain: certsPEM(p.inter, p.root)}},
		{"root in the chain, no system roots", Job{Chain: certsPEM(p.inter, p.root), NoSystemRoots: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := tc.job.Want()
			if err != nil {
				t.Fatal(err)
			}
			r := Evaluate(served, ckName, w, time.Now())
			if r.Passed || r.ChainVerifies {
				t.Errorf("Evaluate: passed %t, chain verifies %t; want the chain untrusted", r.Passed, r.ChainVerifies)
			}
		})
	}
}

func TestJobWantErrors(t *testing.T) {
	p := newCKPKI(t, "JobErr")
	sum := inventory.SHA256Hex(p.root.cert.Raw)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})
	badCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1, 2, 3}})
	tests := []struct {
		name string
		job  Job
		want string
	}{
		{"short hash", Job{ExpectedSHA256: "abcd"}, "64 hex"},
		{"not hex", Job{ExpectedSHA256: strings.Repeat("zz", 32)}, "64 hex"},
		{"key in chain", Job{ExpectedSHA256: sum, Chain: append(certsPEM(p.inter), keyPEM...)}, `"PRIVATE KEY"`},
		{"bad certificate", Job{ExpectedSHA256: sum, Chain: badCert}, "certificate 1"},
		{"garbage", Job{ExpectedSHA256: sum, Chain: []byte("not pem at all")}, "not PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.job.Want()
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("err = %v, want one line with %q", err, tt.want)
			}
		})
	}
	if _, err := (Job{}).Want(); err != nil {
		t.Errorf("empty job: %v, want no error", err)
	}
}
