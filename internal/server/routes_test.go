package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRoutes checks that the PKI paths reach their handlers, OCSP GET
// requests even with "//" in the base64 request (no ServeMux redirect).
func TestRoutes(t *testing.T) {
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name+" "+r.URL.Path) })
	}
	s := New(Config{PKI: &PKIHandlers{CACert: named("cert"), CRL: named("crl"), OCSP: named("ocsp")}, API: named("api")},
		nil, slog.New(slog.DiscardHandler))
	tests := []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/healthz", 200, "{\"status\":\"ok\"}\n"},
		{"GET", "/pki/ca/3.crt", 200, "cert /pki/ca/3.crt"},
		{"GET", "/pki/crl/3.pem", 200, "crl /pki/crl/3.pem"},
		{"POST", "/pki/ocsp/3", 200, "ocsp /pki/ocsp/3"},
		{"GET", "/pki/ocsp/3/MEow//RDBC+A==", 200, "ocsp /pki/ocsp/3/MEow//RDBC+A=="},
		{"GET", "/pki/ocsp/3/MEow%2F%2FRDBC%2BA%3D%3D", 200, "ocsp /pki/ocsp/3/MEow//RDBC+A=="},
		{"POST", "/pki/crl/3.crl", http.StatusMethodNotAllowed, ""},
		{"GET", "/pki/other", http.StatusNotFound, ""},
		{"GET", "/api/v1/me", 200, "api /api/v1/me"},
		{"DELETE", "/api/v1/tokens/3", 200, "api /api/v1/tokens/3"},
		{"GET", "/api/openapi.json", 200, "api /api/openapi.json"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.code || (tt.body != "" && w.Body.String() != tt.body) {
				t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, w.Code, w.Body.String(), tt.code, tt.body)
			}
		})
	}
}

func TestNoPKI(t *testing.T) {
	s := New(Config{}, nil, slog.New(slog.DiscardHandler))
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/pki/ocsp/1/abc", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("GET /pki/ocsp/1/abc without PKI handlers = %d, want 404", w.Code)
	}
	w = httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/me", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("GET /api/v1/me without an API = %d, want 404", w.Code)
	}
}
