// Package server is certkeeper's long-running HTTP service. It owns the
// listeners, graceful shutdown and the health endpoints; the API, web UI
// and CA publication mount their handlers on it.
//
// The main listener serves everything (web UI, API, CA publication,
// health) over TLS when a TLS configuration is given. The optional plain
// listener serves only the CA publication and health: clients fetch CA
// certificates, CRLs and OCSP answers before they trust anything, so those
// must be reachable over plain HTTP.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Config configures a Server. The zero value listens on 127.0.0.1:8080
// over plain HTTP.
type Config struct {
	// Addr is the main listen address; "" means 127.0.0.1:8080.
	Addr string
	// TLS, when set, makes the main listener speak TLS.
	TLS *tls.Config
	// PlainAddr, when set, is a second, plain-HTTP listener serving only
	// the CA publication paths and health.
	PlainAddr string
	// Guard, when set, wraps the main listener's handler (the IP
	// allow-list).
	Guard func(http.Handler) http.Handler
	// UI, when set, serves every path not taken by the others.
	UI http.Handler
	// ShutdownTimeout bounds graceful shutdown; 0 means 15 s.
	ShutdownTimeout time.Duration
	// PKI, when set, publishes CA certificates, CRLs and OCSP responders
	// at the paths of package ca (see routes.go); nil publishes nothing.
	PKI *PKIHandlers
	// API, when set, serves the REST API and its OpenAPI document under
	// /api/ (package api); nil serves no API.
	API http.Handler
	// Listener and PlainListener, when set, are already bound listeners
	// served instead of listening on Addr and PlainAddr, so that a caller
	// can make sure of its ports before it creates anything. Run closes
	// them.
	Listener, PlainListener net.Listener
	// Metrics, when set, serves the Prometheus metrics; nil serves none.
	Metrics *MetricsHandlers
	// MetricsListener, when set, is a bound plain-HTTP listener serving
	// only GET /metrics (Metrics.Open), behind Guard. Run closes it.
	MetricsListener net.Listener
}

// MetricsHandlers serve the Prometheus metrics.
type MetricsHandlers struct {
	// Token serves GET /metrics on the main listener; the caller puts
	// the API token check around it. nil serves nothing there.
	Token http.Handler
	// Open serves GET /metrics on MetricsListener, to whoever reaches
	// that address.
	Open http.Handler
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

// Store is what the readiness check asks of the inventory;
// inventory.Store is one.
type Store interface {
	CountCertificates(ctx context.Context, f inventory.CertificateFilter) (int, error)
}

// Server serves certkeeper over HTTP(S).
type Server struct {
	cfg   Config
	store Store
	log   *slog.Logger
	mux   *http.ServeMux
	plain *http.ServeMux
}

// New returns a Server using st for readiness checks.
func New(cfg Config, st Store, log *slog.Logger) *Server {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	s := &Server{cfg: cfg, store: st, log: log, mux: http.NewServeMux(), plain: http.NewServeMux()}
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

// Addrs are the bound listen addresses; Plain and Metrics are nil
// without those listeners.
type Addrs struct {
	Main, Plain, Metrics net.Addr
}

// Run listens and serves until ctx is cancelled, then shuts down
// gracefully, letting requests in flight finish within ShutdownTimeout.
// ready, when not nil, receives the bound addresses once listening.
func (s *Server) Run(ctx context.Context, ready func(Addrs)) error {
	servers, listeners, addrs, err := s.bindAll()
	if err != nil {
		return err
	}
	s.log.Info("listening", "addr", addrs.Main.String(), "tls", s.cfg.TLS != nil)
	if addrs.Plain != nil {
		s.log.Info("listening for CA publication (plain HTTP)", "addr", addrs.Plain.String())
	}
	if addrs.Metrics != nil {
		s.log.Info("listening for Prometheus metrics (plain HTTP)", "addr", addrs.Metrics.String())
	}
	if ready != nil {
		ready(addrs)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if srv.TLSConfig != nil {
				errc <- srv.ServeTLS(listeners[i], "", "")
				return
			}
			errc <- srv.Serve(listeners[i])
		}()
	}
	return s.shutdown(ctx, servers, errc)
}

// bindAll makes the servers of the main, plain and metrics listeners,
// listening where no bound listener was given. On failure it closes
// every listener.
func (s *Server) bindAll() ([]*http.Server, []net.Listener, Addrs, error) {
	ln, err := listen(s.cfg.Listener, s.cfg.Addr)
	if err != nil {
		closeAll(s.cfg.PlainListener, s.cfg.MetricsListener)
		return nil, nil, Addrs{}, err
	}
	servers := []*http.Server{s.httpServer(s.Handler(), s.cfg.TLS)}
	listeners := []net.Listener{ln}
	addrs := Addrs{Main: ln.Addr()}
	if s.cfg.PlainListener != nil || s.cfg.PlainAddr != "" {
		pl, err := listen(s.cfg.PlainListener, s.cfg.PlainAddr)
		if err != nil {
			closeAll(ln, s.cfg.MetricsListener)
			return nil, nil, Addrs{}, err
		}
		servers = append(servers, s.httpServer(s.PlainHandler(), nil))
		listeners = append(listeners, pl)
		addrs.Plain = pl.Addr()
	}
	if ml := s.cfg.MetricsListener; ml != nil {
		servers = append(servers, s.httpServer(s.MetricsHandler(), nil))
		listeners = append(listeners, ml)
		addrs.Metrics = ml.Addr()
	}
	return servers, listeners, addrs, nil
}

// listen returns ln when it is set, else a new listener on addr.
func listen(ln net.Listener, addr string) (net.Listener, error) {
	if ln != nil {
		return ln, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return ln, nil
}

func closeAll(lns ...net.Listener) {
	for _, ln := range lns {
		if ln != nil {
			ln.Close()
		}
	}
}

func (s *Server) httpServer(h http.Handler, tc *tls.Config) *http.Server {
	return &http.Server{Handler: h, TLSConfig: tc, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
}

// shutdown waits for ctx to end (or a listener to fail), then stops every
// server gracefully.
func (s *Server) shutdown(ctx context.Context, servers []*http.Server, errc chan error) error {
	var first error
	pending := len(servers)
	select {
	case err := <-errc:
		first, pending = fmt.Errorf("server: %w", err), pending-1
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil && first == nil {
			first = fmt.Errorf("server: shutdown: %w", err)
		}
	}
	for range pending {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) && first == nil {
			first = fmt.Errorf("server: %w", err)
		}
	}
	if first == nil {
		s.log.Info("stopped")
	}
	return first
}
