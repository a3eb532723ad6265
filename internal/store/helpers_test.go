package store

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// backend opens fresh stores of one technology for the contract suite.
type backend struct {
	name string
	// fresh returns the location of a new, empty database.
	fresh func(t testing.TB) string
	// open opens (and migrates) the database at loc: store.Open, which
	// picks the backend from loc.
	open func(ctx context.Context, loc string) (inventory.Store, error)
}

func backends() []backend {
	return []backend{
		{
			name:  "sqlite",
			fresh: func(t testing.TB) string { return filepath.Join(t.TempDir(), "certkeeper.db") },
			open:  Open,
		},
		{
			name:  "postgres",
			fresh: func(t testing.TB) string { return testenv.PostgresDSN(t) },
			open:  Open,
		},
	}
}

// openStore opens loc with b and closes the store when the test ends.
func openStore(t testing.TB, b backend, loc string) inventory.Store {
	t.Helper()
	s, err := b.open(context.Background(), loc)
	if err != nil {
		t.Fatalf("open %s store: %v", b.name, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// issued is a test certificate and the key that signs with it.
type issued struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue makes a certificate for name signed by parent (self-signed when
// parent is nil) with public key key.
func issue(t testing.TB, name string, isCA bool, parent *issued, key *ecdsa.PrivateKey, notAfter time.Time) *issued {
	t.Helper()
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"certkeeper test"}},
		NotBefore:             notAfter.Add(-90 * 24 * time.Hour),
		NotAfter:              notAfter,
		IsCA:                  isCA,
		BasicConstraintsValid: true,
		DNSNames:              []string{name + ".example.test"},
	}
	if isCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
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

// hierarchy is a root, an intermediate and a leaf.
type hierarchy struct{ root, inter, leaf *issued }

func newHierarchy(t testing.TB, prefix string) hierarchy {
	t.Helper()
	end := time.Now().Add(365 * 24 * time.Hour).UTC()
	root := issue(t, prefix+" Root", true, nil, newKey(t), end.Add(24*time.Hour))
	inter := issue(t, prefix+" Intermediate", true, root, newKey(t), end)
	leaf := issue(t, prefix+"-leaf", false, inter, newKey(t), end.Add(-24*time.Hour))
	return hierarchy{root, inter, leaf}
}

func record(i *issued) *inventory.Certificate {
	return inventory.NewCertificate(i.cert, "test")
}

// keyRecord is the inventory record of k with a fake sealed form.
func keyRecord(t testing.TB, k *ecdsa.PrivateKey) *inventory.Key {
	t.Helper()
	spki, err := inventory.SPKIHash(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &inventory.Key{SPKISHA256: spki, Algorithm: inventory.ECDSA, Bits: 256, Sealed: []byte("sealed:" + spki)}
}

// fakeCertificate builds a certificate record without X.509 work for
// volume tests: unique fingerprints from n, fake DER of realistic size.
func fakeCertificate(n int, issuer *inventory.Certificate, notAfter time.Time) *inventory.Certificate {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	sum := sha256.Sum256(b[:])
	der := make([]byte, 700)
	copy(der, sum[:])
	name := fmt.Sprintf("host-%d.example.test", n)
	return &inventory.Certificate{
		SHA256: hex.EncodeToString(sum[:]), SHA1: hex.EncodeToString(sum[:20]),
		Serial: hex.EncodeToString(b[:]), Subject: "CN=" + name, CommonName: name,
		Issuer: issuer.Subject, SANs: []string{name, "www." + name},
		NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter,
		SubjectKeyID: hex.EncodeToString(sum[20:]), AuthorityKeyID: issuer.SubjectKeyID,
		KeyAlgorithm: inventory.ECDSA, KeyBits: 256, SignatureAlgorithm: "ECDSA-SHA256",
		SPKISHA256: hex.EncodeToString(sum[:]), DER: der, Source: "bench",
	}
}
