package revocation_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/revocation"
)

// BenchmarkOCSP answers OCSP requests for a good serial through the
// in-process handler (SQLite inventory, ECDSA P-256 responder key): parse,
// serial lookup, sign, encode.
func BenchmarkOCSP(b *testing.B) {
	f := newFixture(b, sqlite(b), revocation.Config{})
	leaf := f.issue(b, "bench.example")
	der := ocspRequest(b, leaf.Certificate, f.issuer, crypto.SHA1)
	h := f.svc.OCSPHandler()
	path := fmt.Sprintf("/pki/ocsp/%d", f.ca.ID)
	serve := func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, bytes.NewReader(der)))
		if w.Code != 200 || w.Body.Len() < 100 {
			b.Fatalf("HTTP %d, %d bytes", w.Code, w.Body.Len())
		}
	}
	serve() // issues the responder certificate
	b.Run("raw-sign", func(b *testing.B) {
		// The raw limit: ocsp.CreateResponse alone, with a key of the same
		// type, no lookup and no HTTP.
		key, issuer, err := f.auth.Signer(context.Background(), f.ca.ID)
		if err != nil {
			b.Fatal(err)
		}
		tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: leaf.Certificate.SerialNumber,
			ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour), Certificate: issuer}
		for b.Loop() {
			if _, err := ocsp.CreateResponse(issuer, issuer, tmpl, key); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "responses/s")
	})
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			serve()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "responses/s")
	})
	b.Run("parallel", func(b *testing.B) {
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				serve()
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "responses/s")
	})
}

// BenchmarkCRL builds and signs a CRL with 10,000 revoked entries with the
// default CA's key (ECDSA P-256).
func BenchmarkCRL(b *testing.B) {
	f := newFixture(b, sqlite(b), revocation.Config{})
	key, issuer, err := f.auth.Signer(context.Background(), f.ca.ID)
	if err != nil {
		b.Fatal(err)
	}
	revs := make([]inventory.Revocation, 10000)
	now := time.Now().UTC().Truncate(time.Second)
	for i := range revs {
		serial := make([]byte, 16)
		rand.Read(serial)
		serial[0] &= 0x7f
		revs[i] = inventory.Revocation{CAID: f.ca.ID, CertificateID: int64(i + 1), Serial: fmt.Sprintf("%x", serial),
			RevokedAt: now, Reason: int(revocation.KeyCompromise)}
	}
	crl := &inventory.CRL{CAID: f.ca.ID, Number: 1, ThisUpdate: now, NextUpdate: now.Add(24 * time.Hour)}
	var size int
	for b.Loop() {
		der, err := revocation.BuildCRL(rand.Reader, issuer, key, crl, revs)
		if err != nil {
			b.Fatal(err)
		}
		size = len(der)
	}
	b.ReportMetric(float64(size), "bytes")
}
