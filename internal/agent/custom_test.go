package agent

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

func TestCustomCertificatesPickedUpAndLogged(t *testing.T) {
	t.Parallel()
	server := newTestPKI(t, "Custom Agent Root")
	clients := newTestPKI(t, "Custom Client CA")
	var leafPEM []byte
	f := newFixture(t, func(f *fixture) {
		var keyPEM []byte
		leafPEM, keyPEM = server.issue(t, "agents.example", x509.ExtKeyUsageServerAuth, "127.0.0.1")
		writeFile(t, filepath.Join(f.certDir, CustomCertFile), append(leafPEM, pemCert(server.cert)...), 0o644)
		writeFile(t, filepath.Join(f.certDir, CustomKeyFile), keyPEM, 0o600)
		writeFile(t, filepath.Join(f.certDir, CustomCAFile), pemCert(clients.cert), 0o644)
	})
	leaf, _ := parseCerts(leafPEM)
	if f.ep.Source() != SourceCustom {
		t.Fatalf("source = %s, want custom", f.ep.Source())
	}
	want := `msg="agent endpoint certificates in use" source=custom fingerprint=` + inventory.SHA256Hex(leaf[0].Raw)
	if got := f.log.Lines(want); len(got) != 1 || !strings.Contains(got[0], "ca_pin="+SPKIPin(server.cert)) {
		t.Errorf("log lines %q, want one with %q and the custom root's pin\nlog:\n%s", got, want, f.log)
	}
	tok := f.token(t, "web1", 0)
	if tok.CAPin != SPKIPin(server.cert) {
		t.Errorf("pin %s, want the custom root's %s", tok.CAPin, SPKIPin(server.cert))
	}
	// The default CA's pin does not open this endpoint.
	if _, err := Enroll(t.Context(), EnrollConfig{Server: f.url, Token: tok.Token, CAPin: SPKIPin(f.root), Dir: t.TempDir()}); err == nil {
		t.Error("enrolled against the custom certificate with the built-in CA's pin")
	}
	dir := filepath.Join(t.TempDir(), "agent")
	if _, err := Enroll(t.Context(), EnrollConfig{Server: f.url, Token: tok.Token, CAPin: tok.CAPin, Dir: dir}); err != nil {
		t.Fatalf("Enroll against the custom certificate: %v", err)
	}
	caPEM, _ := os.ReadFile(filepath.Join(dir, CAFile))
	if cas, _ := parseCerts(caPEM); len(cas) != 1 || !cas[0].Equal(server.cert) {
		t.Error("ca.crt is not the custom root")
	}
	if err := f.runOnce(dir); err != nil {
		t.Errorf("agent round against the custom certificate: %v", err)
	}
	// ca.crt is trusted for client certificates: one of its certificates
	// passes the handshake and is then refused as no agent's.
	certPEM, keyPEM := clients.issue(t, "outsider", x509.ExtKeyUsageClientAuth)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(server.cert)
	if code, body := jobsGet(t, f.url, roots, &pair); code != 403 {
		t.Errorf("client certificate of ca.crt: %d %s, want 403 (handshake accepted, no agent)", code, body)
	}
}

func TestCustomCertificatesChangeWithoutRestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	if f.ep.Source() != SourceDefault {
		t.Fatalf("source = %s, want default", f.ep.Source())
	}
	def := f.log.Lines(`msg="agent endpoint certificates in use" source=default`)
	if len(def) != 1 || !strings.Contains(def[0], "ca_pin="+SPKIPin(f.root)) {
		t.Errorf("default certificate log lines %q, want one with the built-in root's pin", def)
	}
	if got := f.log.Lines(`msg="agent endpoint certificate issued" reason="none stored"`); len(got) != 1 {
		t.Errorf("issuance log lines %q", got)
	}
	server := newTestPKI(t, "Custom Agent Root")
	leafPEM, keyPEM := server.issue(t, "agents.example", x509.ExtKeyUsageServerAuth, "127.0.0.1")
	// An incomplete set (no ca.crt) is not a custom set: what every look
	// of the running endpoint decides from (refresh keeps the default
	// then), asked directly instead of waiting for a look that changes
	// nothing.
	writeFile(t, filepath.Join(f.certDir, CustomCertFile), append(leafPEM, pemCert(server.cert)...), 0o644)
	writeFile(t, filepath.Join(f.certDir, CustomKeyFile), keyPEM, 0o600)
	if _, ok, err := loadCustom(f.certDir); ok || err != nil {
		t.Fatalf("loadCustom without ca.crt = ok %v, %v; want no custom set", ok, err)
	}
	if f.ep.Source() != SourceDefault {
		t.Fatal("custom certificates used without ca.crt")
	}
	writeFile(t, filepath.Join(f.certDir, CustomCAFile), pemCert(server.cert), 0o644)
	waitSource(t, f, SourceCustom)
	// A broken key is logged and the custom certificate in use stays.
	writeFile(t, filepath.Join(f.certDir, CustomKeyFile), []byte("not a key"), 0o600)
	deadline := time.Now().Add(5 * time.Second)
	for len(f.log.Lines("custom agent endpoint certificates unusable")) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := f.log.Lines("custom agent endpoint certificates unusable"); len(got) != 1 || f.ep.Source() != SourceCustom {
		t.Errorf("broken key: log %q, source %s; want one error line and the custom certificate kept", got, f.ep.Source())
	}
	// Removing the files brings the stored default back, not a new one.
	for _, n := range []string{CustomCAFile, CustomCertFile, CustomKeyFile} {
		os.Remove(filepath.Join(f.certDir, n))
	}
	waitSource(t, f, SourceDefault)
	if got := f.log.Lines("agent endpoint certificate issued"); len(got) != 1 {
		t.Errorf("the default certificate was issued %d times, want once", len(got))
	}
}

func TestDefaultCertificateReusedAndRenewed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	first := f.ep.cur.Load().cert.Leaf
	// A second endpoint over the same inventory reuses the stored one.
	f.start(t)
	if got := f.ep.cur.Load().cert.Leaf; !got.Equal(first) {
		t.Error("restart issued a new default certificate")
	}
	// Two thirds into its life it is renewed.
	f.clock.Advance(first.NotAfter.Sub(first.NotBefore) * 2 / 3)
	f.start(t)
	renewed := f.ep.cur.Load().cert.Leaf
	if renewed.Equal(first) {
		t.Fatal("the default certificate was not renewed")
	}
	if got := f.log.Lines(`reason="due for renewal"`); len(got) != 1 {
		t.Errorf("renewal log lines %q", got)
	}
	// Agents pin the endpoint's key: the renewal keeps it.
	if SPKIPin(renewed) != SPKIPin(first) {
		t.Errorf("renewed key %s, want the pinned %s kept", SPKIPin(renewed), SPKIPin(first))
	}
	// The renewed certificate is found again, with its key, after a restart.
	f.start(t)
	if got := f.ep.cur.Load().cert.Leaf; !got.Equal(renewed) {
		t.Error("restart after the renewal issued another certificate")
	}
	// A new name asks for a new certificate too.
	ep, err := NewEndpoint(t.Context(), f.reg, f.jobs, f.sealer, EndpointConfig{Names: []string{"agents.example"}}, f.logger())
	if err != nil {
		t.Fatal(err)
	}
	if leaf := ep.cur.Load().cert.Leaf; leaf.VerifyHostname("agents.example") != nil || leaf.VerifyHostname("127.0.0.1") != nil {
		t.Errorf("certificate names %v %v, want agents.example and the loopback names", leaf.DNSNames, leaf.IPAddresses)
	}
	if leaf := ep.cur.Load().cert.Leaf; SPKIPin(leaf) != SPKIPin(first) {
		t.Errorf("key after a name change %s, want the pinned %s kept", SPKIPin(leaf), SPKIPin(first))
	}
}

func waitSource(t *testing.T, f *fixture, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for f.ep.Source() != want {
		if time.Now().After(deadline) {
			t.Fatalf("source stayed %s, want %s\nlog:\n%s", f.ep.Source(), want, f.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
