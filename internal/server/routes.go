package server

import (
	"net/http"
	"strings"
)

// routes registers the routes of both listeners: health and CA
// publication on each, the API and the UI on the main one.
func (s *Server) routes() {
	for _, m := range []*http.ServeMux{s.mux, s.plain} {
		m.HandleFunc("GET /healthz", s.handleHealth)
		m.HandleFunc("GET /readyz", s.handleReady)
		if p := s.cfg.PKI; p != nil {
			m.Handle("GET /pki/ca/{file}", p.CACert)
			m.Handle("GET /pki/crl/{file}", p.CRL)
			m.Handle("POST /pki/ocsp/{id}", p.OCSP)
			m.Handle("GET /pki/ocsp/{id}/{request...}", p.OCSP)
		}
	}
	if s.cfg.API != nil {
		s.mux.Handle("/api/", s.cfg.API)
	}
	if m := s.cfg.Metrics; m != nil && m.Token != nil {
		s.mux.Handle("GET /metrics", m.Token)
	}
	if s.cfg.UI != nil {
		s.mux.Handle("/", s.cfg.UI)
	}
}

// Handler returns the main listener's handler, behind the guard.
func (s *Server) Handler() http.Handler {
	h := s.withOCSP(s.mux)
	if s.cfg.Guard != nil {
		h = s.cfg.Guard(h)
	}
	return h
}

// PlainHandler returns the plain listener's handler: CA publication and
// health only, open to everyone.
func (s *Server) PlainHandler() http.Handler { return s.withOCSP(s.plain) }

// MetricsHandler returns the metrics listener's handler: GET /metrics
// only, behind the guard; other paths get 404.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	if m := s.cfg.Metrics; m != nil && m.Open != nil {
		mux.Handle("GET /metrics", m.Open)
	}
	if s.cfg.Guard != nil {
		return s.cfg.Guard(mux)
	}
	return mux
}

// withOCSP sends OCSP GET requests around the ServeMux: their last path
// element is a base64 request (RFC 6960, appendix A.1) that may contain
// "/", and a client that does not URL-encode it may send "//", which the
// ServeMux would "clean" and redirect.
func (s *Server) withOCSP(mux *http.ServeMux) http.Handler {
	if s.cfg.PKI == nil {
		return mux
	}
	ocsp := s.cfg.PKI.OCSP
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.Path, "/pki/ocsp/") {
			ocsp.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}
