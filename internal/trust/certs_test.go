package trust

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testNow is the fixed clock of every test.
var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// issued is a throwaway certificate with its key.
type issued struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// spec describes a throwaway certificate; the zero value of each field has
// a sensible default.
type spec struct {
	cn                  string
	dns                 []string
	ips                 []net.IP
	notBefore, notAfter time.Time               // zero: testNow-30d, testNow+90d
	ca                  bool                    // a CA (intermediate or root)
	key                 crypto.Signer           // nil: a fresh P-256 key
	sigAlg              x509.SignatureAlgorithm // 0: the default for the issuer's key
	aia                 []string                // caIssuers URLs
}

// issue makes the certificate described by s, signed by parent, or
// self-signed when parent is nil.
func issue(t testing.TB, s spec, parent *issued) *issued {
	t.Helper()
	if s.key == nil {
		s.key = ecKey(t, elliptic.P256())
	}
	tmpl := template(s)
	signer := &issued{tmpl, s.key}
	if parent != nil {
		signer = parent
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer.cert, s.key.Public(), signer.key)
	if err != nil {
		t.Fatalf("create certificate %q: %v", s.cn, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate %q: %v", s.cn, err)
	}
	return &issued{c, s.key}
}

func template(s spec) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: s.cn},
		DNSNames:              s.dns,
		IPAddresses:           s.ips,
		NotBefore:             or(s.notBefore, testNow.Add(-30*day)),
		NotAfter:              or(s.notAfter, testNow.Add(90*day)),
		BasicConstraintsValid: true,
		IsCA:                  s.ca,
		SignatureAlgorithm:    s.sigAlg,
		IssuingCertificateURL: s.aia,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if s.ca {
		tmpl.KeyUsage, tmpl.ExtKeyUsage = x509.KeyUsageCertSign|x509.KeyUsageCRLSign, nil
	}
	return tmpl
}

func or(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

func ecKey(t testing.TB, curve elliptic.Curve) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsaKey(t testing.TB, bits int) crypto.Signer {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// writePEM writes the certificates, or the key, of the given issued
// certificates to dir/name and returns the path.
func writePEM(t testing.TB, dir, name string, key crypto.Signer, certs ...*x509.Certificate) string {
	t.Helper()
	var data []byte
	for _, c := range certs {
		data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if key != nil {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		data = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
