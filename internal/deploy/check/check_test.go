package check

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/internal/deploytest"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

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
	p := deploytest.NewPKI(t, "Check")
	good := p.Good(t)
	other := p.Leaf(t, time.Now().Add(-time.Hour), time.Now().Add(30*24*time.Hour), "old.example.test")
	expired := p.Leaf(t, time.Now().Add(-60*24*time.Hour), time.Now().Add(-49*time.Hour), deploytest.Name)
	tests := []struct {
		name    string
		served  tls.Certificate
		want    *deploytest.Cert
		sni     string
		verdict verdict
		days    int
		problem []string // parts of one problem
	}{
		{"full chain", deploytest.TLSCert(good, p.Inter), good, deploytest.Name, verdict{true, true, true, true, true}, 89, nil},
		{"full chain with root", deploytest.TLSCert(good, p.Inter, p.Root), good, deploytest.Name, verdict{true, true, true, true, true}, 89, nil},
		{"missing intermediate", deploytest.TLSCert(good), good, deploytest.Name, verdict{false, true, false, false, true}, 89,
			[]string{"CN=Check Issuing CA,O=Check", "clients", "full chain", "fullchain.pem"}},
		{"wrong leaf", deploytest.TLSCert(other, p.Inter), good, deploytest.Name, verdict{false, false, true, true, false}, 29,
			[]string{"CN=old.example.test", inventory.SHA256Hex(other.Cert.Raw), dateOf(other.Cert.NotAfter), "reloaded"}},
		{"expired", deploytest.TLSCert(expired, p.Inter), expired, deploytest.Name, verdict{false, true, true, true, true}, -3,
			[]string{"expired on " + dateOf(expired.Cert.NotAfter)}},
		{"ip literal, no SNI", deploytest.TLSCert(good, p.Inter), good, "", verdict{true, true, true, true, true}, 89, nil},
		{"name mismatch does not fail", deploytest.TLSCert(good, p.Inter), good, "intranet.local", verdict{true, true, true, true, false}, 89,
			[]string{`"intranet.local"`, deploytest.Name}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			port := deploytest.StartTLS(t, tt.served, nil)
			spec := inventory.CheckSpec{Host: "127.0.0.1", Port: port, SNI: tt.sni}
			r := Run(context.Background(), spec, p.Want(tt.want), Options{Timeout: 10 * time.Second})
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
			assertObserved(t, r, "127.0.0.1:"+strconv.Itoa(port), wantName, tt.served.Leaf, tt.want.Cert)
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
	p := deploytest.NewPKI(t, "MTLS")
	good := p.Good(t)
	client := p.Leaf(t, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour), "client.example.test")
	port := deploytest.StartTLS(t, deploytest.TLSCert(good, p.Inter), certPool([]*x509.Certificate{p.Root.Cert}))
	spec := inventory.CheckSpec{Host: "127.0.0.1", Port: port, SNI: deploytest.Name}

	r := Run(context.Background(), spec, p.Want(good), Options{Timeout: 10 * time.Second, Source: SourceAgent})
	if r.Passed || r.Error == "" || strings.Contains(r.Error, "\n") || r.ServedSHA256 != "" {
		t.Errorf("without a client certificate: Passed %v, Error %q, ServedSHA256 %q: want a one-line error and nothing observed", r.Passed, r.Error, r.ServedSHA256)
	}
	if r.Source != SourceAgent {
		t.Errorf("Source = %q, want %q", r.Source, SourceAgent)
	}
	cc := deploytest.TLSCert(client, p.Inter)
	r = Run(context.Background(), spec, p.Want(good), Options{Timeout: 10 * time.Second, ClientCertificate: &cc})
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
	want := engine.Want{ExpectedSHA256: strings.Repeat("AB", 32)}
	fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	r := Run(context.Background(), inventory.CheckSpec{Host: "127.0.0.1", Port: port}, want, Options{Now: func() time.Time { return fixed }})
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
	r = Run(context.Background(), inventory.CheckSpec{}, want, Options{})
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
		if got := Address(tt.spec); got != tt.want {
			t.Errorf("CheckAddress(%+v) = %q, want %q", tt.spec, got, tt.want)
		}
	}
}

// TestCheckOpenSSL checks a real `openssl s_server` serving the full chain
// of a CA played by openssl, with the expectations of a Job.
func TestCheckOpenSSL(t *testing.T) {
	ca := testenv.NewOpenSSLCA(t, "Vendor")
	ca.Run("req", "-new", "-config", "req.cnf", "-subj", "/CN="+deploytest.Name, "-newkey", "ec",
		"-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key", "-out", "leaf.csr")
	leaf := ca.Sign("leaf", ca.Read("leaf.csr"), "serverAuth", "DNS:"+deploytest.Name)
	port := startSServer(t, ca, "-cert", ca.Path("leaf.pem"), "-key", ca.Path("leaf.key"), "-cert_chain", ca.Path("intermediate.pem"))

	job := engine.Job{ExpectedSHA256: inventory.SHA256Hex(leaf.Raw), Chain: append(ca.Read("intermediate.pem"), ca.Read("root.pem")...),
		Roots: ca.Read("root.pem")}
	want, err := job.Want()
	if err != nil {
		t.Fatal(err)
	}
	r := Run(context.Background(), inventory.CheckSpec{Host: "127.0.0.1", Port: port, SNI: deploytest.Name}, want, Options{Timeout: 10 * time.Second})
	if got := verdictOf(r); got != (verdict{true, true, true, true, true}) || len(r.Problems) > 0 || r.Error != "" {
		t.Errorf("verdict %+v, Error %q, Problems %q: want everything passed", got, r.Error, r.Problems)
	}
	if r.DaysLeft != 9 {
		t.Errorf("DaysLeft = %d, want 9 (a 10-day certificate signed just now)", r.DaysLeft)
	}

	noChain := engine.Job{ExpectedSHA256: job.ExpectedSHA256, Chain: ca.Read("root.pem"), Roots: ca.Read("root.pem")}
	want, err = noChain.Want()
	if err != nil {
		t.Fatal(err)
	}
	want.Intermediates = []*x509.Certificate{testenv.ParseCertPEM(t, ca.Read("intermediate.pem"))}
	port = startSServer(t, ca, "-cert", ca.Path("leaf.pem"), "-key", ca.Path("leaf.key"))
	r = Run(context.Background(), inventory.CheckSpec{Host: "127.0.0.1", Port: port, SNI: deploytest.Name}, want, Options{Timeout: 10 * time.Second})
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
		port := deploytest.FreePort(t)
		if ok := runSServer(t, openssl, append([]string{"s_server", "-www", "-accept", "127.0.0.1:" + strconv.Itoa(port)}, args...), &out); ok {
			return port
		}
	}
	t.Fatalf("openssl s_server did not start: %s", out.String())
	return 0
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
	p := deploytest.NewPKI(t, "Eval")
	other := deploytest.NewPKI(t, "Other")
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	leafFor := func(notBefore, notAfter time.Time) *deploytest.Cert {
		return p.Leaf(t, notBefore, notAfter, deploytest.Name)
	}
	good := leafFor(now.Add(-24*time.Hour), now.Add(36*time.Hour))
	foreign := other.Leaf(t, now.Add(-time.Hour), now.Add(48*time.Hour), deploytest.Name)
	future := leafFor(now.Add(2*time.Hour), now.Add(72*time.Hour))
	tests := []struct {
		name    string
		served  []*deploytest.Cert
		want    engine.Want
		verdict verdict
		days    int
		problem []string
	}{
		{"floor of days", []*deploytest.Cert{good, p.Inter}, p.Want(good), verdict{true, true, true, true, true}, 1, nil},
		{"hash only", []*deploytest.Cert{good, p.Inter}, engine.Want{ExpectedSHA256: strings.ToUpper(inventory.SHA256Hex(good.Cert.Raw)), Roots: p.Want(good).Roots},
			verdict{true, true, true, true, true}, 1, nil},
		{"leaf wins over hash", []*deploytest.Cert{good, p.Inter}, engine.Want{Leaf: good.Cert, ExpectedSHA256: strings.Repeat("0", 64), Roots: p.Want(good).Roots},
			verdict{true, true, true, true, true}, 1, nil},
		{"no expectation", []*deploytest.Cert{good, p.Inter}, engine.Want{Roots: p.Want(good).Roots}, verdict{false, false, true, true, true}, 1,
			[]string{"no expected certificate"}},
		{"untrusted root", []*deploytest.Cert{foreign, other.Inter, other.Root}, engine.Want{Leaf: foreign.Cert, Roots: p.Want(good).Roots},
			verdict{false, true, true, false, true}, 2, []string{"does not verify", "Other Root", "not trusted"}},
		{"not yet valid", []*deploytest.Cert{future, p.Inter}, p.Want(future), verdict{false, true, true, true, true}, 3,
			[]string{"not valid before " + dateOf(future.Cert.NotBefore)}},
		{"missing intermediate explained", []*deploytest.Cert{good}, p.Want(good), verdict{false, true, false, false, true}, 1,
			[]string{"does not verify", "Eval Issuing CA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var served []*x509.Certificate
			for _, c := range tt.served {
				served = append(served, c.Cert)
			}
			r := Evaluate(served, deploytest.Name, tt.want, now)
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
	p := deploytest.NewPKI(t, "Days")
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
		leaf := p.Leaf(t, now.Add(-30*24*time.Hour), tt.notAfter, deploytest.Name)
		r := Evaluate([]*x509.Certificate{leaf.Cert, p.Inter.Cert}, deploytest.Name, p.Want(leaf), now)
		if r.DaysLeft != tt.days || r.Passed != tt.passed {
			t.Errorf("notAfter now%+v: DaysLeft %d, Passed %v; want %d, %v (problems %q)", tt.notAfter.Sub(now), r.DaysLeft, r.Passed, tt.days, tt.passed, r.Problems)
		}
	}
}

func TestEvaluateEmpty(t *testing.T) {
	r := Evaluate(nil, deploytest.Name, engine.Want{ExpectedSHA256: "ab"}, time.Now())
	if r == nil || r.Passed || r.Error == "" || r.ExpectedSHA256 != "ab" {
		t.Errorf("Evaluate(nil) = %+v: want a failed result with Error", r)
	}
}

// TestEvaluateAnyLeaf: with no expected certificate and AnyLeaf, the
// served leaf is accepted and everything else is still judged.
func TestEvaluateAnyLeaf(t *testing.T) {
	p := deploytest.NewPKI(t, "Any")
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	good := p.Leaf(t, now.Add(-24*time.Hour), now.Add(36*time.Hour), deploytest.Name)
	want := engine.Want{Roots: p.Want(good).Roots}
	r := evaluate([]*x509.Certificate{good.Cert, p.Inter.Cert}, deploytest.Name, want, now, true)
	if got := verdictOf(r); got != (verdict{true, true, true, true, true}) || len(r.Problems) > 0 {
		t.Errorf("served chain with AnyLeaf: verdict %+v, problems %q; want all true, none", got, r.Problems)
	}
	r = evaluate([]*x509.Certificate{good.Cert}, deploytest.Name, want, now, true)
	if r.Passed || r.ChainVerifies || !hasProblem(r, "does not verify") {
		t.Errorf("leaf without intermediate with AnyLeaf: passed %t, verifies %t, problems %q; want a failed chain",
			r.Passed, r.ChainVerifies, r.Problems)
	}
}
