package truststore_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/truststore"
)

const actor = "user:ada"

var clock = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// issued is a test certificate with its key.
type issued struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// mint makes a certificate named cn signed by parent (self-signed when
// nil).
func mint(t testing.TB, cn string, isCA bool, parent *issued) *issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: clock.Add(-time.Hour), NotAfter: clock.Add(365 * 24 * time.Hour), BasicConstraintsValid: true, IsCA: isCA,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, DNSNames: []string{"www.example.test"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &issued{cert: c, key: key}
}

type fixture struct {
	st  inventory.Store
	svc *truststore.Service
	// system stands for the operating system's roots.
	system *issued
}

// newFixture opens a SQLite inventory with certkeeper's default CA and a
// service whose "system roots" are one test root.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, err := keys.NewSealer(nil, make([]byte, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ca.New(st, sealer, ca.Config{}).EnsureDefault(t.Context()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, system: mint(t, "System Root", true, nil)}
	system := func() (*x509.CertPool, error) {
		p := x509.NewCertPool()
		p.AddCert(f.system.cert)
		return p, nil
	}
	f.svc = truststore.New(st, truststore.Options{Now: func() time.Time { return clock }, SystemRoots: system})
	return f
}

// put stores certificates and returns their IDs in order.
func (f *fixture) put(t *testing.T, certs ...*issued) []int64 {
	t.Helper()
	var ids []int64
	for _, c := range certs {
		res, err := f.st.PutCertificates(t.Context(), []*inventory.Certificate{inventory.NewCertificate(c.cert, "test")})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res[0].ID)
	}
	return ids
}

// verifies reports whether leaf verifies through inter to the service's
// pool.
func (f *fixture) verifies(t *testing.T, leaf, inter *issued) bool {
	t.Helper()
	pool, err := f.svc.Pool(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	inters := x509.NewCertPool()
	inters.AddCert(inter.cert)
	_, err = leaf.cert.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inters, CurrentTime: clock})
	return err == nil
}

func TestImportedRootIsNotTrustedUntilMarked(t *testing.T) {
	f := newFixture(t)
	root := mint(t, "Vendor Root", true, nil)
	inter := mint(t, "Vendor CA", true, root)
	leaf := mint(t, "www.example.test", false, inter)
	ids := f.put(t, root, inter, leaf)

	a, err := f.svc.Anchors(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !a.SystemRoots || len(a.Roots) != 1 || a.Roots[0].Source != truststore.SourceCA || a.Roots[0].CA == "" {
		t.Fatalf("anchors of a fresh inventory = %+v, want system roots and the default CA's root", a)
	}
	if f.verifies(t, leaf, inter) {
		t.Fatal("a chain to an imported, unmarked root verifies")
	}
	r, err := f.svc.Add(t.Context(), actor, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if r.AddedBy != actor || !r.AddedAt.Equal(clock) || r.Source != truststore.SourceMarked {
		t.Errorf("Add = %+v, want marked by %s at the clock's time", r, actor)
	}
	if !f.verifies(t, leaf, inter) {
		t.Fatal("a chain to a marked root does not verify")
	}
	if err := f.svc.Remove(t.Context(), actor, ids[0]); err != nil {
		t.Fatal(err)
	}
	if f.verifies(t, leaf, inter) {
		t.Fatal("a chain to a removed root still verifies")
	}
}

func TestSystemRootsSwitch(t *testing.T) {
	f := newFixture(t)
	inter := mint(t, "Public CA", true, f.system)
	leaf := mint(t, "www.example.test", false, inter)
	if !f.verifies(t, leaf, inter) {
		t.Fatal("a chain to a system root does not verify with the system roots on")
	}
	if err := f.svc.SetSystemRoots(t.Context(), actor, false); err != nil {
		t.Fatal(err)
	}
	if f.verifies(t, leaf, inter) {
		t.Fatal("a chain to a system root verifies with the system roots off")
	}
	a, err := f.svc.Anchors(t.Context())
	if err != nil || a.SystemRoots || len(a.Roots) != 1 {
		t.Errorf("anchors with the system roots off = %+v, %v; want off, the CA root kept", a, err)
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	root := mint(t, "Vendor Root", true, nil)
	inter := mint(t, "Vendor CA", true, root)
	selfLeaf := mint(t, "self.example.test", false, nil)
	ids := f.put(t, root, inter, selfLeaf)
	a, err := f.svc.Anchors(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	caRoot := a.Roots[0].Certificate.ID

	for name, id := range map[string]int64{"intermediate": ids[1], "self-signed leaf": ids[2], "no ID": 0} {
		var fe *inventory.FieldError
		if _, err := f.svc.Add(t.Context(), actor, id); !errors.As(err, &fe) || fe.Field != "certificate_id" {
			t.Errorf("Add(%s) = %v, want a certificate_id field error", name, err)
		}
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"add unknown", second(f.svc.Add(t.Context(), actor, 999999)), inventory.ErrNotFound},
		{"add CA root", second(f.svc.Add(t.Context(), actor, caRoot)), inventory.ErrConflict},
		{"remove CA root", f.svc.Remove(t.Context(), actor, caRoot), inventory.ErrState},
		{"remove unmarked", f.svc.Remove(t.Context(), actor, ids[0]), inventory.ErrNotFound},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if _, err := f.svc.Add(t.Context(), actor, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Add(t.Context(), actor, ids[0]); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("Add twice = %v, want ErrConflict", err)
	}
	events, _, err := f.st.ListAudit(context.Background(), time.Time{}, inventory.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == "trust.root_add" {
			n++
			if e.Actor != actor || e.Object == "" {
				t.Errorf("audit event %+v, want actor %s and an object", e, actor)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d trust.root_add events, want 1 (refusals are not audited)", n)
	}
}

func second[T any](_ T, err error) error { return err }

// BenchmarkPool measures building the pool per upload or check: the
// default CA, ten marked roots and the real system roots.
func BenchmarkPool(b *testing.B) {
	st, err := store.Open(b.Context(), filepath.Join(b.TempDir(), "ck.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sealer, err := keys.NewSealer(nil, make([]byte, keys.MasterKeySize))
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := ca.New(st, sealer, ca.Config{}).EnsureDefault(b.Context()); err != nil {
		b.Fatal(err)
	}
	svc := truststore.New(st, truststore.Options{})
	for range 10 {
		res, err := st.PutCertificates(b.Context(), []*inventory.Certificate{inventory.NewCertificate(mint(b, "Root", true, nil).cert, "test")})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Add(b.Context(), actor, res[0].ID); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := svc.Pool(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
