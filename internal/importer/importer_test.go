package importer

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
)

// files is an in-memory file system for the importer's read function.
type files map[string][]byte

func (f files) read(name string) ([]byte, error) {
	b, ok := f[name]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return b, nil
}

type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newCA(t testing.TB) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Importer Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

// leafPEM issues a leaf for name signed by ca with key pub, as PEM.
func (ca *testCA) leafPEM(t testing.TB, serial int64, name string, pub *ecdsa.PublicKey, notAfter time.Time) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func keyPEM(t testing.TB, k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func newImporter(t testing.TB, fsys files) (*Importer, inventory.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, _ := keys.NewSealer(nil, bytes.Repeat([]byte{3}, keys.MasterKeySize))
	return New(st, s, nil, fsys.read), st
}

func TestImportLinksKeyAndIssuer(t *testing.T) {
	ca := newCA(t)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
	fsys := files{
		"key.pem":  keyPEM(t, leafKey),
		"leaf.pem": ca.leafPEM(t, 2, "a.example", &leafKey.PublicKey, time.Now().Add(48*time.Hour)),
		"ca.pem":   caPEM,
	}
	im, st := newImporter(t, fsys)
	ctx := context.Background()
	// Key first, then leaf, then its CA: links must form whatever the order.
	for _, name := range []string{"key.pem", "leaf.pem", "ca.pem"} {
		if _, err := im.Import(ctx, "test", []Source{{Name: name}}, nil); err != nil {
			t.Fatalf("import %s: %v", name, err)
		}
	}
	page, err := st.ListCertificates(ctx, inventory.CertificateFilter{LeafOnly: true}, inventory.Page{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("leaf list = %v, %v", page, err)
	}
	leaf := page.Items[0]
	if leaf.KeyID == 0 || leaf.IssuerID == 0 {
		t.Fatalf("leaf key_id=%d issuer_id=%d, want both linked", leaf.KeyID, leaf.IssuerID)
	}
	chain, err := st.Chain(ctx, leaf.ID)
	if err != nil || len(chain) != 2 || !chain[1].IsCA {
		t.Fatalf("Chain = %d certificates, %v; want leaf and CA", len(chain), err)
	}
	k, err := st.GetKey(ctx, leaf.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := keys.OpenPrivateKey(im.sealer, k)
	if err != nil || !leafKey.Equal(priv) {
		t.Fatalf("stored key does not open to the imported key: %v", err)
	}
}

func TestImportAllOrNothing(t *testing.T) {
	ca := newCA(t)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fsys := files{
		"good.pem": ca.leafPEM(t, 5, "b.example", &k.PublicKey, time.Now().Add(time.Hour)),
		"bad.pem":  []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
	}
	im, st := newImporter(t, fsys)
	var stages []string
	_, err := im.Import(context.Background(), "test", []Source{{Name: "good.pem"}, {Name: "bad.pem"}},
		func(stage string, done, total int) {
			stages = append(stages, fmt.Sprintf("%s %d/%d", stage, done, total))
		})
	if err == nil || !strings.HasPrefix(err.Error(), "bad.pem: ") {
		t.Fatalf("error = %v, want one naming bad.pem", err)
	}
	if n, _ := st.CountCertificates(context.Background(), inventory.CertificateFilter{}); n != 0 {
		t.Fatalf("%d certificates stored after a failed import, want 0", n)
	}
	if strings.Contains(strings.Join(stages, ","), "storing") {
		t.Errorf("progress reached storing: %v", stages)
	}
	if _, err := im.Import(context.Background(), "test", []Source{{Name: "missing.pem"}}, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestImportBatchesAcrossFiles(t *testing.T) {
	ca := newCA(t)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fsys := files{}
	var srcs []Source
	n := BatchSize*2 + 17
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("c%d.pem", i)
		fsys[name] = ca.leafPEM(t, int64(i+10), fmt.Sprintf("h%d.example", i), &k.PublicKey, time.Now().Add(time.Duration(i+1)*time.Hour))
		srcs = append(srcs, Source{Name: name})
	}
	im, st := newImporter(t, fsys)
	sum, err := im.Import(context.Background(), "test", srcs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.CertsAdded != n {
		t.Fatalf("added %d, want %d", sum.CertsAdded, n)
	}
	for _, f := range sum.Files {
		if len(f.Certificates) != 1 || f.Certificates[0].ID == 0 || !f.Certificates[0].Added {
			t.Fatalf("file %s result = %+v, want one added certificate with an ID", f.Name, f.Certificates)
		}
	}
	if got, _ := st.CountCertificates(context.Background(), inventory.CertificateFilter{}); got != n {
		t.Fatalf("store holds %d, want %d", got, n)
	}
	again, err := im.Import(context.Background(), "test", srcs[:3], nil)
	if err != nil || again.CertsAdded != 0 || again.CertsExisting != 3 {
		t.Fatalf("re-import = %+v, %v; want 0 added, 3 existing", again, err)
	}
}

// TestImportInterruptedIsAudited cuts an import short after its first
// batch: what was stored is there with its audit events, nothing of the
// rest, and importing again completes it.
func TestImportInterruptedIsAudited(t *testing.T) {
	ca := newCA(t)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var first bytes.Buffer
	first.Write(keyPEM(t, k))
	for i := range BatchSize {
		first.Write(ca.leafPEM(t, int64(i+10), fmt.Sprintf("h%d.example", i), &k.PublicKey, time.Now().Add(time.Hour)))
	}
	fsys := files{"first.pem": first.Bytes(), "second.pem": ca.leafPEM(t, 9999, "last.example", &k.PublicKey, time.Now().Add(time.Hour))}
	srcs := []Source{{Name: "first.pem"}, {Name: "second.pem"}}
	im, st := newImporter(t, fsys)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := im.Import(ctx, "test", srcs, func(stage string, done, _ int) {
		if stage == "storing" && done == 1 {
			cancel() // the first batch (first.pem) is stored: stop there
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted import: err = %v, want context.Canceled", err)
	}
	assertAudited(t, st, BatchSize, 1)
	sum, err := im.Import(context.Background(), "test", srcs, nil)
	if err != nil || sum.CertsAdded != 1 || sum.CertsExisting != BatchSize || sum.KeysAdded != 0 {
		t.Fatalf("import again = %+v, %v; want the one certificate left added", sum, err)
	}
	assertAudited(t, st, BatchSize+1, 1)
}

// assertAudited checks that the store holds certs certificates and keys
// keys, and that the audit trail accounts for every one of them.
func assertAudited(t *testing.T, st inventory.Store, certs, nkeys int) {
	t.Helper()
	ctx := context.Background()
	if n, _ := st.CountCertificates(ctx, inventory.CertificateFilter{}); n != certs {
		t.Fatalf("store holds %d certificates, want %d", n, certs)
	}
	stored, _, _ := st.ListKeys(ctx, inventory.Page{})
	events, _, err := st.ListAudit(ctx, time.Time{}, inventory.Page{Limit: inventory.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	audited, keyEvents := 0, 0
	for _, e := range events {
		switch e.Action {
		case "certificate.import":
			var n int
			if _, err := fmt.Sscanf(e.Summary, "%d certificates added", &n); err != nil {
				t.Fatalf("audit summary %q: %v", e.Summary, err)
			}
			audited += n
		case "key.import":
			keyEvents++
		}
	}
	if audited != certs || len(stored) != nkeys || keyEvents != nkeys {
		t.Errorf("audit accounts for %d certificates and %d keys; the store holds %d and %d", audited, keyEvents, certs, len(stored))
	}
}
