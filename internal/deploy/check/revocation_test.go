package check_test

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/deploy/check"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/revocation"
	"github.com/certkeeper/certkeeper/internal/store"
)

// ocspSite is a certificate of the built-in CA whose OCSP URL points at
// certkeeper's own responder, served by a TLS server.
type ocspSite struct {
	rev    *revocation.Service
	iss    *ca.Issued
	pki    *httptest.Server
	want   engine.Want
	record int64
}

func newOCSPSite(t *testing.T) *ocspSite {
	t.Helper()
	mux := http.NewServeMux()
	pki := httptest.NewServer(mux)
	t.Cleanup(pki.Close)
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	master := make([]byte, keys.MasterKeySize)
	rand.Read(master)
	sealer, err := keys.NewSealer(nil, master)
	if err != nil {
		t.Fatal(err)
	}
	auth := ca.New(st, sealer, ca.Config{BaseURL: pki.URL})
	if _, _, err := auth.EnsureDefault(t.Context()); err != nil {
		t.Fatal(err)
	}
	rev, err := revocation.New(st, auth, sealer, revocation.Config{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("POST /pki/ocsp/{id}", rev.OCSPHandler())
	iss, err := auth.Issue(t.Context(), ca.Request{Requester: ca.Admin("test"), Profile: ca.TLSServer, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(iss.Chain[len(iss.Chain)-1])
	return &ocspSite{rev: rev, iss: iss, pki: pki, record: iss.Record.ID,
		want: engine.Want{Leaf: iss.Certificate, Intermediates: iss.Chain[:len(iss.Chain)-1], Roots: roots}}
}

// serve starts a TLS server of the site's certificate, stapling staple
// when not nil, and returns the check spec for it.
func (s *ocspSite) serve(t *testing.T, staple []byte) inventory.CheckSpec {
	t.Helper()
	cert := tls.Certificate{Certificate: [][]byte{s.iss.Certificate.Raw}, PrivateKey: s.iss.Key, OCSPStaple: staple}
	for _, c := range s.iss.Chain[:len(s.iss.Chain)-1] {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	return inventory.CheckSpec{Host: "127.0.0.1", Port: p, SNI: "localhost"}
}

// ocspResponse asks the responder for the site's certificate.
func (s *ocspSite) ocspResponse(t *testing.T) []byte {
	t.Helper()
	req, err := ocsp.CreateRequest(s.iss.Certificate, s.iss.Chain[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(s.iss.Certificate.OCSPServer[0], "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("OCSP responder: %d %v", resp.StatusCode, err)
	}
	return body
}

func runCheck(t *testing.T, spec inventory.CheckSpec, want engine.Want) *inventory.CheckResult {
	t.Helper()
	return check.Run(t.Context(), spec, want, check.Options{Timeout: 5 * time.Second})
}

// TestCheckAsksOCSP: the check learns the status from the responder the
// certificate names; a revoked certificate fails the check.
func TestCheckAsksOCSP(t *testing.T) {
	s := newOCSPSite(t)
	spec := s.serve(t, nil)
	if r := runCheck(t, spec, s.want); !r.Passed || r.Revocation != check.RevocationGood {
		t.Fatalf("check of a valid certificate: passed %v, revocation %q, problems %q; want passed, good", r.Passed, r.Revocation, r.Problems)
	}
	if _, err := s.rev.Revoke(t.Context(), strconv.FormatInt(s.record, 10), revocation.KeyCompromise, "test"); err != nil {
		t.Fatal(err)
	}
	r := runCheck(t, spec, s.want)
	if r.Passed || r.Revocation != check.RevocationRevoked || !strings.Contains(strings.Join(r.Problems, " "), "revoked on") {
		t.Errorf("check of a revoked certificate: passed %v, revocation %q, problems %q; want failed, revoked", r.Passed, r.Revocation, r.Problems)
	}
}

// TestCheckReadsTheStaple: a stapled response is used without asking the
// responder; with neither, the check says so and still passes.
func TestCheckReadsTheStaple(t *testing.T) {
	s := newOCSPSite(t)
	staple := s.ocspResponse(t)
	stapling, bare := s.serve(t, staple), s.serve(t, nil)
	s.pki.Close()
	if r := runCheck(t, stapling, s.want); !r.Passed || r.Revocation != check.RevocationGood {
		t.Errorf("stapled, responder down: passed %v, revocation %q, problems %q; want passed, good", r.Passed, r.Revocation, r.Problems)
	}
	r := runCheck(t, bare, s.want)
	if !r.Passed || r.Revocation != "" || !strings.Contains(strings.Join(r.Problems, " "), "revocation could not be checked") {
		t.Errorf("no staple, responder down: passed %v, revocation %q, problems %q; want passed, the failure said", r.Passed, r.Revocation, r.Problems)
	}
}

// TestCheckSkipsOCSPForUntrustedIssuer: when the leaf's issuer does not
// chain to a trusted root, the responder it names is not asked, and the
// check says why.
func TestCheckSkipsOCSPForUntrustedIssuer(t *testing.T) {
	s := newOCSPSite(t)
	spec := s.serve(t, nil)
	var asked atomic.Int32
	inner := s.pki.Config.Handler
	s.pki.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		inner.ServeHTTP(w, r)
	})
	untrusted := s.want
	untrusted.Roots = x509.NewCertPool()
	r := runCheck(t, spec, untrusted)
	if r.Passed || r.Revocation != "" || !strings.Contains(strings.Join(r.Problems, " "), "revocation was not asked") {
		t.Errorf("untrusted issuer: passed %v, revocation %q, problems %q; want failed, revocation not asked", r.Passed, r.Revocation, r.Problems)
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the responder was asked %d times, want never", n)
	}
	if r := runCheck(t, spec, s.want); r.Revocation != check.RevocationGood || asked.Load() == 0 {
		t.Errorf("trusted issuer: revocation %q after %d requests; want good from the responder", r.Revocation, asked.Load())
	}
}
