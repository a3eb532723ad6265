package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/zmap/zlint/v3/lint"
)

// TestLintSets checks that every excluded lint exists (a renamed lint
// would silently run again) and reports the size of each set.
func TestLintSets(t *testing.T) {
	names := make(map[string]bool)
	for _, n := range lint.GlobalRegistry().Names() {
		names[n] = true
	}
	for n := range excludedLints {
		if !names[n] {
			t.Errorf("excluded lint %s is not in zlint's registry", n)
		}
	}
	for _, n := range append(unpublishedLints, keyQualityLints...) {
		if !names[n] {
			t.Errorf("unpublished lint %s is not in zlint's registry", n)
		}
	}
	l := newLinter()
	for set, list := range l.sets {
		t.Logf("%+v: %d lints", set, len(list.lints))
		if len(list.lints) < 100 {
			t.Errorf("set %+v has %d lints, want at least 100", set, len(list.lints))
		}
	}
}

// TestLintRefuses signs a certificate that breaks RFC 5280 (a CA
// certificate without keyCertSign, a leaf without names but with
// serverAuth) through the lint step: it must be refused, naming lints.
func TestLintRefuses(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	parent := &x509.Certificate{Subject: pkix.Name{CommonName: "x"}, SubjectKeyId: []byte{1, 2, 3}}
	s, err := newSigner(rand.Reader, parent, key)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(5000 * day), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature}
	_, err = s.lint(newLinter(), lintSet{webPKI: true}, tmpl, key.Public())
	if err == nil || !strings.Contains(err.Error(), "ca: lint refused the certificate: ") {
		t.Fatalf("lint = %v, want a refusal naming lints", err)
	}
	t.Log(err)
	if _, err := s.sign(nil); err != errUnlinted {
		t.Fatalf("sign(nil) = %v, want errUnlinted", err)
	}
}

// TestLongPrivateServerCertsAfterSC081 issues a one-year TLS server
// certificate at dates when the CA/B Forum's public limits have shrunk
// to 100 and 47 days: a private CA keeps issuing them.
func TestLongPrivateServerCertsAfterSC081(t *testing.T) {
	for _, day := range []time.Time{
		time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC),
	} {
		now := func() time.Time { return day }
		a, _, _ := newAuthority(t, Config{Now: now})
		got, err := a.Issue(context.Background(), Request{Requester: Admin("test"), Profile: TLSServer, DNSNames: []string{"app.example.test"},
			Validity: 365 * 24 * time.Hour})
		if err != nil {
			t.Fatalf("issue on %s: %v", day.Format("2006-01-02"), err)
		}
		if life := got.Certificate.NotAfter.Sub(got.Certificate.NotBefore); life < 364*24*time.Hour {
			t.Errorf("issued on %s for %s, want a year", day.Format("2006-01-02"), life)
		}
	}
}
