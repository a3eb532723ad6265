// Package server is certkeeper's long-running HTTP service. It owns the
// listener, graceful shutdown and the health endpoints; the API, web UI and
// CA publication mount their handlers on it.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Config configures a Server. The zero value listens on 127.0.0.1:8080.
type Config struct {
	// Addr is the listen address; "" means 127.0.0.1:8080.
	Addr string
	// ShutdownTimeout bounds graceful shutdown; 0 means 15 s.
	ShutdownTimeout time.Duration
	// PKI, when set, publishes CA certificates, CRLs and OCSP responders
	// at the paths of package ca (see routes.go); nil publishes nothing.
	PKI *PKIHandlers
	// API, when set, serves the REST API and its OpenAPI document under
	// /api/ (package api); nil serves no API.
	API http.Handler
}

// PKIHandlers serve the CA publication paths. Each reads the CA ID from
// the last path elements itself.
type PKIHandlers struct {
	// CACert serves GET /pki/ca/{id}.crt and {id}.pem.
	CACert http.Handler
	// CRL serves GET /pki/crl/{id}.crl and {id}.pem.
	CRL http.Handler
	// OCSP serves POST /pki/ocsp/{id} and GET /pki/ocsp/{id}/{request}.
	OCSP http.Handler
}

// Server serves certkeeper over HTTP.
type Server struct {
	cfg   Config
	store inventory.Store
	log   *slog.Logger
	mux   *http.ServeMux
}

// New returns a Server using st for readiness checks.
func New(cfg Config, st inventory.Store, log *slog.Logger) *Server {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	s := &Server{cfg: cfg, store: st, log: log, mux: http.NewServeMux()}
	s.routes()
	return s
}

// handleHealth answers while the process runs (liveness).
func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReady answers 200 when the inventory answers within 2 seconds.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	n, err := s.store.CountCertificates(ctx, inventory.CertificateFilter{})
	if err != nil {
		s.log.Warn("readiness check failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "certificates": n})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Run listens and serves until ctx is cancelled, then shuts down
// gracefully, letting requests in flight finish within ShutdownTimeout.
// ready, when not nil, receives the bound address once listening.
func (s *Server) Run(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.log.Info("listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	s.log.Info("stopped")
	return nil
}
