package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"path/filepath"
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// newSealer returns a sealer under a random master key.
func newSealer(t testing.TB) *keys.Sealer {
	t.Helper()
	master := make([]byte, 32)
	rand.Read(master)
	s, err := keys.NewSealer(nil, master)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openSQLite opens a fresh SQLite store in a temporary directory.
func openSQLite(t testing.TB) inventory.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "ck.db"))
}

// openPostgres opens a fresh PostgreSQL database (skipped, or failed in
// strict mode, without CERTKEEPER_TEST_POSTGRES).
func openPostgres(t testing.TB) inventory.Store {
	t.Helper()
	return openAt(t, testenv.PostgresDSN(t))
}

func openAt(t testing.TB, loc string) inventory.Store {
	t.Helper()
	st, err := store.Open(context.Background(), loc)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newAuthority returns an Authority over a fresh SQLite store with a
// default CA.
func newAuthority(t testing.TB, cfg Config) (*Authority, inventory.Store, *inventory.CA) {
	t.Helper()
	st := openSQLite(t)
	a := New(st, newSealer(t), cfg)
	c, created, err := a.EnsureDefault(context.Background())
	if err != nil || !created {
		t.Fatalf("EnsureDefault = %v, %v; want a new CA", created, err)
	}
	return a, st, c
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}
