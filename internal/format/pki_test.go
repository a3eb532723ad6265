package format

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"
)

// goPKI is an in-process root -> intermediate -> leaf hierarchy (ECDSA
// P-256) and the leaf key, for tests that need no outside tool.
type goPKI struct {
	root, inter, leaf *x509.Certificate
	key               crypto.Signer
}

var (
	goPKIOnce sync.Once
	goPKIVal  *goPKI
)

// newGoPKI returns the shared hierarchy.
func newGoPKI(t testing.TB) *goPKI {
	t.Helper()
	goPKIOnce.Do(func() { goPKIVal = mustGoPKI() })
	return goPKIVal
}

// mustGoPKI builds a hierarchy or panics.
func mustGoPKI() *goPKI {
	rootKey := mustKey()
	interKey := mustKey()
	leafKey := mustKey()
	root := mustCert("Test Go Root", true, rootKey, nil, rootKey)
	inter := mustCert("Test Go Intermediate", true, interKey, root, rootKey)
	leaf := mustCert("leaf.example.test", false, leafKey, inter, interKey)
	return &goPKI{root: root, inter: inter, leaf: leaf, key: leafKey}
}

func mustKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// mustCert issues a certificate for key, signed by parent (nil: self).
func mustCert(cn string, ca bool, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer) *x509.Certificate {
	tmpl := &x509.Certificate{
		SerialNumber:          mustSerial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		BasicConstraintsValid: true,
		IsCA:                  ca,
	}
	if ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign
	} else {
		tmpl.DNSNames = []string{cn}
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c
}

// bundle returns a Bundle of the hierarchy, with or without the key.
func (p *goPKI) bundle(withKey bool) *Bundle {
	b := &Bundle{Chain: []*x509.Certificate{p.leaf, p.inter, p.root}}
	if withKey {
		b.Key, b.KeyMatchesLeaf = p.key, true
	}
	return b
}

// mustEncode encodes b for target t or fails the test.
func mustEncode(t testing.TB, b *Bundle, target Target, password string) []byte {
	t.Helper()
	out, err := Encode(b, target, EncodeOptions{Password: []byte(password)})
	if err != nil {
		t.Fatalf("Encode(%s): %v", target, err)
	}
	return out
}

// mustSerial returns a random positive 63-bit serial number.
func mustSerial() *big.Int {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		panic(err)
	}
	return n.Add(n, big.NewInt(1))
}
