package alert_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/alert"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/settings"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

var (
	admin = ca.Requester{Name: "user:ada", Role: inventory.RoleAdmin}
	user  = ca.Requester{Name: "user:bo", Role: inventory.RoleUser}
)

// pki is a throwaway root and intermediate that issue real leaves.
type pki struct {
	t          testing.TB
	root       *x509.Certificate
	rootKey    *ecdsa.PrivateKey
	inter      *x509.Certificate
	interKey   *ecdsa.PrivateKey
	serial     int64
	roots      *x509.CertPool
	knownInter *x509.CertPool
}

func newPKI(t testing.TB, at time.Time) *pki {
	p := &pki{t: t}
	p.root, p.rootKey = p.sign("Test Root", nil, true, at.Add(-time.Hour), at.Add(20*365*24*time.Hour), nil, nil)
	p.inter, p.interKey = p.sign("Test Issuing CA", nil, true, at.Add(-time.Hour), at.Add(10*365*24*time.Hour), p.root, p.rootKey)
	p.roots, p.knownInter = x509.NewCertPool(), x509.NewCertPool()
	p.roots.AddCert(p.root)
	p.knownInter.AddCert(p.inter)
	return p
}

func (p *pki) sign(cn string, dns []string, isCA bool, from, to time.Time, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	p.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.serial + 1000), Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
		NotBefore: from, NotAfter: to, BasicConstraintsValid: true, IsCA: isCA,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		p.t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		p.t.Fatal(err)
	}
	return c, key
}

// leaf issues a leaf for name valid from from for lifetime.
func (p *pki) leaf(name string, from time.Time, lifetime time.Duration) *x509.Certificate {
	c, _ := p.sign(name, []string{name}, false, from, from.Add(lifetime), p.inter, p.interKey)
	return c
}

func fingerprint(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return hex.EncodeToString(s[:])
}

// site is one monitored endpoint as the test sets it up: what it serves
// and what is expected of it.
type site struct {
	ep       inventory.Endpoint
	served   []*x509.Certificate
	expected *x509.Certificate
	revoked  bool
	// err, when set, means the endpoint could not be observed.
	err string
}

// endpoints implements alert.Endpoints by judging what each site serves
// at the clock's time, as a deploy check would: the verdicts come from
// the real certificates, not from the test.
type endpoints struct {
	mu    sync.Mutex
	pki   *pki
	clock *testenv.Clock
	sites []*site
}

func (e *endpoints) set(s *site) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, old := range e.sites {
		if old.ep.ID == s.ep.ID {
			e.sites[i] = s
			return
		}
	}
	e.sites = append(e.sites, s)
}

func (e *endpoints) AllEndpoints(ctx context.Context) ([]inventory.Endpoint, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []inventory.Endpoint
	for _, s := range e.sites {
		ep := s.ep
		ep.Last = e.judge(s, e.clock.Now())
		out = append(out, ep)
	}
	slices.SortFunc(out, func(a, b inventory.Endpoint) int { return int(a.ID - b.ID) })
	return out, ctx.Err()
}

func (e *endpoints) judge(s *site, now time.Time) *inventory.EndpointResult {
	r := &inventory.EndpointResult{EndpointID: s.ep.ID}
	r.Check.Time, r.Check.Address, r.Check.ServerName = now, s.ep.Address, s.ep.ServerName
	if s.err != "" {
		r.Check.Error = s.err
		return r
	}
	leaf := s.served[0]
	served := x509.NewCertPool()
	r.ChainNotAfter = leaf.NotAfter
	for _, c := range s.served {
		r.ChainSHA256 = append(r.ChainSHA256, fingerprint(c))
		if c != leaf {
			served.AddCert(c)
		}
		if c.NotAfter.Before(r.ChainNotAfter) {
			r.ChainNotAfter = c.NotAfter
		}
	}
	r.LeafNotAfter, r.LeafLifetime, r.NotYetValid = leaf.NotAfter, leaf.NotAfter.Sub(leaf.NotBefore), now.Before(leaf.NotBefore)
	c := &r.Check
	c.ServedSHA256, c.ServedSubject = fingerprint(leaf), leaf.Subject.String()
	if s.expected != nil {
		c.ExpectedSHA256 = fingerprint(s.expected)
		c.Match = c.ExpectedSHA256 == c.ServedSHA256
	}
	// Trust is judged within the leaf's validity: expiry has rules of
	// its own.
	at := leaf.NotBefore.Add(time.Second)
	// As internal/deploy/check does: the chain verifies with the served
	// intermediates only, and the known intermediate that issued the
	// leaf must be among them.
	_, err := leaf.Verify(x509.VerifyOptions{Roots: e.pki.roots, Intermediates: served, CurrentTime: at})
	c.ChainVerifies = err == nil
	c.IntermediatesServed = leaf.CheckSignatureFrom(e.pki.inter) != nil || slices.ContainsFunc(s.served[1:],
		func(x *x509.Certificate) bool { return x.Equal(e.pki.inter) })
	c.NameMatches = leaf.VerifyHostname(firstNonEmpty(s.ep.ServerName, "localhost")) == nil
	if s.revoked {
		c.Revocation = "revoked"
	}
	c.DaysLeft = int(leaf.NotAfter.Sub(now).Hours() / 24)
	c.Passed = (s.expected == nil || c.Match) && c.IntermediatesServed && c.ChainVerifies && c.NameMatches &&
		!s.revoked && !r.NotYetValid && now.Before(leaf.NotAfter)
	return r
}

func firstNonEmpty(l ...string) string {
	for _, s := range l {
		if s != "" {
			return s
		}
	}
	return ""
}

// notices records what the service sends.
type notices struct {
	mu   sync.Mutex
	sent []inventory.Notice
}

func (n *notices) Notify(ctx context.Context, x inventory.Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, x)
	return ctx.Err()
}

// take returns and forgets what was sent.
func (n *notices) take() []inventory.Notice {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.sent
	n.sent = nil
	return out
}

// env is a service over a real SQLite store.
type env struct {
	t        testing.TB
	st       inventory.Store
	clock    *testenv.Clock
	pki      *pki
	eps      *endpoints
	sent     *notices
	svc      *alert.Service
	settings *settings.Service
}

func newEnv(t testing.TB, at time.Time) *env {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, err := keys.NewSealer(nil, bytes.Repeat([]byte{7}, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	clock := testenv.NewClock(at)
	e := &env{t: t, st: st, clock: clock, pki: newPKI(t, at.Add(-400*24*time.Hour)), sent: &notices{},
		settings: settings.New(st, sealer, clock.Now)}
	e.eps = &endpoints{pki: e.pki, clock: clock}
	e.svc = alert.New(st, alert.Options{Endpoints: e.eps, Notifier: e.sent, Settings: e.settings, Now: clock.Now})
	return e
}

// evaluate runs Evaluate and returns the notices it sent.
func (e *env) evaluate() []inventory.Notice {
	e.t.Helper()
	if _, err := e.svc.Evaluate(context.Background()); err != nil {
		e.t.Fatalf("Evaluate: %v", err)
	}
	return e.sent.take()
}

// web is a site on www.example.com serving leaf and the intermediate.
func (e *env) web(id int64, leaf *x509.Certificate) *site {
	return &site{ep: inventory.Endpoint{ID: id, Address: "www.example.com:443", ServerName: "www.example.com",
		Source: inventory.EndpointManual}, served: []*x509.Certificate{leaf, e.pki.inter}}
}

func kinds(l []inventory.Notice) []string {
	var out []string
	for _, n := range l {
		out = append(out, n.Kind+"/"+n.Severity)
	}
	return out
}
