package revocation_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/certkeeper/certkeeper/internal/revocation"
)

func TestPublication(t *testing.T) {
	f := newFixture(t, sqlite(t), revocation.Config{})
	serve := func(h http.Handler, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	der := func(w *httptest.ResponseRecorder, pemType string) []byte {
		if pemType == "" {
			return w.Body.Bytes()
		}
		b, _ := pem.Decode(w.Body.Bytes())
		if b == nil || b.Type != pemType {
			t.Fatalf("body is not one PEM %s block: %q", pemType, w.Body.String())
		}
		return b.Bytes
	}
	certs, crls := f.svc.CACertHandler(), f.svc.CRLHandler()
	tests := []struct {
		name, path, ctype, pemType string
		h                          http.Handler
		check                      func(t *testing.T, der []byte)
	}{
		{"CA certificate DER", "/pki/ca/%d.crt", "application/pkix-cert", "", certs, f.isIssuer},
		{"CA certificate PEM", "/pki/ca/%d.pem", "application/x-pem-file", "CERTIFICATE", certs, f.isIssuer},
		{"CRL DER", "/pki/crl/%d.crl", "application/pkix-crl", "", crls, f.isCRL},
		{"CRL PEM", "/pki/crl/%d.pem", "application/x-pem-file", "X509 CRL", crls, f.isCRL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(tt.h, fmt.Sprintf(tt.path, f.ca.ID))
			if w.Code != 200 || w.Header().Get("Content-Type") != tt.ctype {
				t.Fatalf("HTTP %d %q, want 200 %q", w.Code, w.Header().Get("Content-Type"), tt.ctype)
			}
			tt.check(t, der(w, tt.pemType))
		})
	}
	t.Run("the same CRL until it is refreshed", func(t *testing.T) {
		a := serve(crls, fmt.Sprintf("/pki/crl/%d.crl", f.ca.ID))
		b := serve(crls, fmt.Sprintf("/pki/crl/%d.crl", f.ca.ID))
		if !bytes.Equal(a.Body.Bytes(), b.Body.Bytes()) || a.Header().Get("ETag") == "" {
			t.Error("two fetches gave different CRLs (or no ETag)")
		}
	})
	for path, h := range map[string]http.Handler{
		"/pki/ca/9999.crt": certs, "/pki/crl/9999.crl": crls, "/pki/ca/x.crt": certs, "/pki/crl/1.txt": crls,
	} {
		if w := serve(h, path); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, w.Code)
		}
	}
}

func (f *fixture) isIssuer(t *testing.T, der []byte) {
	if !bytes.Equal(der, f.issuer.Raw) {
		t.Error("served certificate is not the CA's")
	}
}

func (f *fixture) isCRL(t *testing.T, der []byte) {
	l, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.CheckSignatureFrom(f.issuer); err != nil {
		t.Errorf("CRL signature: %v", err)
	}
}
