package revocation_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/revocation"
)

// ocspRequest builds a DER request for serial under issuer.
func ocspRequest(t testing.TB, leaf, issuer *x509.Certificate, h crypto.Hash) []byte {
	t.Helper()
	der, err := ocsp.CreateRequest(leaf, issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// post sends a request to the handler and returns the HTTP response.
func post(t testing.TB, h http.Handler, caID int64, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/pki/ocsp/%d", caID), bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/ocsp-request")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func get(t testing.TB, h http.Handler, caID int64, der []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/pki/ocsp/%d/%s", caID, url.PathEscape(base64.StdEncoding.EncodeToString(der))), nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// parse checks a successful response: signed by a delegated responder the
// CA issued (included in the response), for leaf.
func parse(t testing.TB, w *httptest.ResponseRecorder, leaf, issuer *x509.Certificate) *ocsp.Response {
	t.Helper()
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("HTTP %d %q, want 200 application/ocsp-response", w.Code, w.Header().Get("Content-Type"))
	}
	resp, err := ocsp.ParseResponseForCert(w.Body.Bytes(), leaf, issuer)
	if err != nil {
		t.Fatalf("parse OCSP response: %v", err)
	}
	if resp.Certificate == nil || !hasEKU(resp.Certificate, x509.ExtKeyUsageOCSPSigning) ||
		bytes.Equal(resp.Certificate.Raw, issuer.Raw) {
		t.Fatalf("response signed by %v, want a delegated responder certificate (id-kp-OCSPSigning)", resp.Certificate)
	}
	return resp
}

func hasEKU(c *x509.Certificate, eku x509.ExtKeyUsage) bool {
	for _, e := range c.ExtKeyUsage {
		if e == eku {
			return true
		}
	}
	return false
}

func TestOCSP(t *testing.T) {
	f := newFixture(t, sqlite(t), revocation.Config{OCSPValidity: time.Hour})
	h := f.svc.OCSPHandler()
	good := f.issue(t, "good.example")
	bad := f.issue(t, "bad.example")
	if _, err := f.svc.Revoke(context.Background(), strconv.FormatInt(bad.Record.ID, 10), revocation.Superseded, "test"); err != nil {
		t.Fatal(err)
	}

	t.Run("good, POST", func(t *testing.T) {
		w := post(t, h, f.ca.ID, ocspRequest(t, good.Certificate, f.issuer, crypto.SHA1))
		resp := parse(t, w, good.Certificate, f.issuer)
		if resp.Status != ocsp.Good {
			t.Errorf("status = %d, want good", resp.Status)
		}
		if !resp.NextUpdate.Equal(resp.ThisUpdate.Add(time.Hour)) {
			t.Errorf("thisUpdate %s nextUpdate %s, want one hour apart", resp.ThisUpdate, resp.NextUpdate)
		}
		cc := w.Header().Get("Cache-Control")
		if !strings.Contains(cc, "max-age=3600") || !strings.Contains(cc, "public") || w.Header().Get("ETag") == "" ||
			w.Header().Get("Last-Modified") == "" || w.Header().Get("Expires") == "" {
			t.Errorf("headers %v, want RFC 5019 caching headers with max-age=3600", w.Header())
		}
	})
	t.Run("revoked, GET, SHA-256 CertID", func(t *testing.T) {
		resp := parse(t, get(t, h, f.ca.ID, ocspRequest(t, bad.Certificate, f.issuer, crypto.SHA256)), bad.Certificate, f.issuer)
		if resp.Status != ocsp.Revoked || resp.RevocationReason != ocsp.Superseded || !resp.RevokedAt.Equal(f.clock.Now()) {
			t.Errorf("status %d reason %d at %s, want revoked, superseded, at %s", resp.Status, resp.RevocationReason, resp.RevokedAt, f.clock.Now())
		}
	})
	t.Run("unknown serial", func(t *testing.T) {
		fake := *good.Certificate
		fake.SerialNumber = big.NewInt(0x1234567)
		resp := parse(t, post(t, h, f.ca.ID, ocspRequest(t, &fake, f.issuer, crypto.SHA1)), &fake, f.issuer)
		if resp.Status != ocsp.Unknown {
			t.Errorf("status = %d, want unknown", resp.Status)
		}
	})
	t.Run("GET with slashes left unescaped", func(t *testing.T) {
		der := ocspRequest(t, good.Certificate, f.issuer, crypto.SHA1)
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.Path = fmt.Sprintf("/pki/ocsp/%d/%s", f.ca.ID, base64.StdEncoding.EncodeToString(der))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if parse(t, w, good.Certificate, f.issuer).Status != ocsp.Good {
			t.Error("status is not good")
		}
	})
	errorCases := []struct {
		name string
		do   func() *httptest.ResponseRecorder
		want []byte
	}{
		{"malformed POST", func() *httptest.ResponseRecorder { return post(t, h, f.ca.ID, []byte("not DER")) }, ocsp.MalformedRequestErrorResponse},
		{"malformed GET", func() *httptest.ResponseRecorder { return get(t, h, f.ca.ID, []byte{0x30, 0x03, 0x01}) }, ocsp.MalformedRequestErrorResponse},
		{"not base64", func() *httptest.ResponseRecorder {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, fmt.Sprintf("/pki/ocsp/%d/%%21%%21", f.ca.ID), nil))
			return w
		}, ocsp.MalformedRequestErrorResponse},
		{"another issuer", func() *httptest.ResponseRecorder {
			return post(t, h, f.ca.ID, ocspRequest(t, f.issuer, rootCert(t, f), crypto.SHA1))
		}, ocsp.UnauthorizedErrorResponse},
		{"unknown CA", func() *httptest.ResponseRecorder {
			return post(t, h, 9999, ocspRequest(t, good.Certificate, f.issuer, crypto.SHA1))
		}, ocsp.UnauthorizedErrorResponse},
	}
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.do()
			if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), tt.want) || w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("HTTP %d %x (Cache-Control %q), want 200 %x no-store", w.Code, w.Body.Bytes(), w.Header().Get("Cache-Control"), tt.want)
			}
		})
	}
}

func rootCert(t testing.TB, f *fixture) *x509.Certificate {
	t.Helper()
	chain, err := f.auth.Chain(context.Background(), f.ca.ID)
	if err != nil {
		t.Fatal(err)
	}
	return chain[len(chain)-1]
}

// TestResponderRenewal: the responder certificate is reused until less
// than a third of its life remains, then replaced; a second Service (as a
// second instance) picks the stored one up instead of issuing its own.
func TestResponderRenewal(t *testing.T) {
	f := newFixture(t, sqlite(t), revocation.Config{})
	leaf := f.issue(t, "renew.example")
	der := ocspRequest(t, leaf.Certificate, f.issuer, crypto.SHA1)
	responder := func() *x509.Certificate {
		return parse(t, post(t, f.svc.OCSPHandler(), f.ca.ID, der), leaf.Certificate, f.issuer).Certificate
	}
	first := responder()
	if rec, err := f.st.CertificateBySHA256(context.Background(), inventory.SHA256Hex(first.Raw)); err != nil || !rec.Internal {
		t.Errorf("stored responder certificate = %+v, %v; want it marked internal", rec, err)
	}
	life := first.NotAfter.Sub(first.NotBefore)
	f.clock.Advance(life / 2)
	if again := responder(); !again.Equal(first) {
		t.Errorf("responder replaced at half its life (serial %x -> %x)", first.SerialNumber, again.SerialNumber)
	}
	f.clock.Advance(life/6 + time.Hour)
	renewed := responder()
	if renewed.Equal(first) {
		t.Fatalf("responder certificate (valid %s..%s) not renewed at %s", first.NotBefore, first.NotAfter, f.clock.Now())
	}
	if renewed.NotBefore.Before(f.clock.Now().Add(-time.Hour)) {
		t.Errorf("renewed responder starts %s, want about %s", renewed.NotBefore, f.clock.Now())
	}
}
