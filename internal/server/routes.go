package server

import (
	"net/http"
	"strings"
)

// routes registers every route of the plain-HTTP listener.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	s.mux.HandleFunc("GET /readyz", s.handleReady)
	if p := s.cfg.PKI; p != nil {
		s.mux.Handle("GET /pki/ca/{file}", p.CACert)
		s.mux.Handle("GET /pki/crl/{file}", p.CRL)
		s.mux.Handle("POST /pki/ocsp/{id}", p.OCSP)
		s.mux.Handle("GET /pki/ocsp/{id}/{request...}", p.OCSP)
	}
	if s.cfg.API != nil {
		s.mux.Handle("/api/", s.cfg.API)
	}
}

// Handler returns the server's root handler.
//
// OCSP GET requests bypass the ServeMux: their last path element is a
// base64 request (RFC 6960, appendix A.1) that may contain "/", and a
// client that does not URL-encode it may send "//", which the ServeMux
// would "clean" and redirect.
func (s *Server) Handler() http.Handler {
	if s.cfg.PKI == nil {
		return s.mux
	}
	ocsp := s.cfg.PKI.OCSP
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.Path, "/pki/ocsp/") {
			ocsp.ServeHTTP(w, r)
			return
		}
		s.mux.ServeHTTP(w, r)
	})
}
