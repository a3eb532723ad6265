package revocation_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/revocation"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// fixture is an inventory with its default CA, an Authority and a
// revocation Service, all on one fake clock.
type fixture struct {
	st    inventory.Store
	auth  *ca.Authority
	svc   *revocation.Service
	clock *testenv.Clock
	ca    *inventory.CA
	// issuer is the default CA's certificate.
	issuer *x509.Certificate
}

// locations are the databases the store-dependent tests run against.
func locations() map[string]func(t testing.TB) string {
	return map[string]func(t testing.TB) string{
		"sqlite":   func(t testing.TB) string { return filepath.Join(t.TempDir(), "certkeeper.db") },
		"postgres": func(t testing.TB) string { return testenv.PostgresDSN(t) },
	}
}

func sqlite(t testing.TB) string { return locations()["sqlite"](t) }

func newFixture(t testing.TB, loc string, cfg revocation.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, loc)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	master := make([]byte, keys.MasterKeySize)
	rand.Read(master)
	sealer, err := keys.NewSealer(nil, master)
	if err != nil {
		t.Fatal(err)
	}
	clk := testenv.NewClock(time.Now().UTC().Truncate(time.Second))
	auth := ca.New(st, sealer, ca.Config{Now: clk.Now, BaseURL: "http://pki.example"})
	c, _, err := auth.EnsureDefault(ctx)
	if err != nil {
		t.Fatalf("EnsureDefault: %v", err)
	}
	cfg.Now = clk.Now
	svc, err := revocation.New(st, auth, sealer, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("revocation.New: %v", err)
	}
	_, issuer, err := auth.Signer(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, auth: auth, svc: svc, clock: clk, ca: c, issuer: issuer}
}

// issue has the default CA issue a TLS server certificate.
func (f *fixture) issue(t testing.TB, name string) *ca.Issued {
	t.Helper()
	iss, err := f.auth.Issue(context.Background(), ca.Request{Requester: ca.Admin("test"), Profile: ca.TLSServer, DNSNames: []string{name}, Actor: "test"})
	if err != nil {
		t.Fatalf("issue %s: %v", name, err)
	}
	return iss
}

// crl parses and verifies the CA's latest stored CRL.
func (f *fixture) crl(t testing.TB) *x509.RevocationList {
	t.Helper()
	stored, err := f.st.LatestCRL(context.Background(), f.ca.ID)
	if err != nil {
		t.Fatalf("LatestCRL: %v", err)
	}
	l, err := x509.ParseRevocationList(stored.DER)
	if err != nil {
		t.Fatalf("parse CRL: %v", err)
	}
	if err := l.CheckSignatureFrom(f.issuer); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	if l.Number.Int64() != stored.Number {
		t.Errorf("CRL number in DER = %v, stored as %d", l.Number, stored.Number)
	}
	return l
}
