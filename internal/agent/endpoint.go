package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// DefaultListen is where the endpoint listens unless told otherwise.
const DefaultListen = "127.0.0.1:8444"

// DefaultPoll is how often the endpoint looks at the custom certificate
// files and at the default certificate's expiry.
const DefaultPoll = 5 * time.Second

// retryDelay is how long the endpoint waits after a failed renewal of
// the default certificate before it tries again.
const retryDelay = time.Minute

// Jobs hands out the installs queued for an agent and takes back their
// outcomes; the deployment service implements it.
type Jobs interface {
	AgentJobs(ctx context.Context, agentID int64) ([]engine.AgentJob, error)
	AgentResult(ctx context.Context, agentID, deploymentID int64, o *engine.Outcome) (*inventory.Deployment, error)
}

// EndpointConfig configures an Endpoint. The zero value listens on
// DefaultListen with a default certificate for the loopback names.
type EndpointConfig struct {
	// Addr is the listen address; "" means DefaultListen.
	Addr string
	// Names are the host names and IP addresses agents reach the manager
	// by; the default certificate covers them and the loopback names.
	Names []string
	// Poll is how often Run looks at the certificates; 0 means
	// DefaultPoll, and a negative Poll never (the caller calls Refresh:
	// the process's scheduler does).
	Poll time.Duration
	// Listener, when set, is an already bound listener served instead of
	// listening on Addr.
	Listener net.Listener
}

// certSet is what the endpoint serves and trusts at one time.
type certSet struct {
	source string
	cert   *tls.Certificate
	tls    *tls.Config
	// state is the custom files' state, "" for the default.
	state string
}

// Endpoint is the manager's HTTPS listener for agents.
type Endpoint struct {
	reg  *Registry
	jobs Jobs
	def  defaultCerts
	cfg  EndpointConfig
	log  *slog.Logger
	mux  *http.ServeMux
	ln   net.Listener

	cur atomic.Pointer[certSet]

	refusals refusalLog

	// Owned by NewEndpoint, then by Run.
	defCert *tls.Certificate
	broken  string // state of unusable custom files already logged
	retryAt time.Time
}

// NewEndpoint returns an endpoint ready to serve: it reads the custom
// certificates, or loads (issuing when needed) the default one, and logs
// which are in use.
func NewEndpoint(ctx context.Context, reg *Registry, jobs Jobs, sealer *keys.Sealer, cfg EndpointConfig, log *slog.Logger) (*Endpoint, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultListen
	}
	if cfg.Poll == 0 {
		cfg.Poll = DefaultPoll
	}
	e := &Endpoint{reg: reg, jobs: jobs, cfg: cfg, log: log, mux: http.NewServeMux(),
		def: defaultCerts{reg: reg, sealer: sealer, names: normalizeNames(append(slices.Clone(cfg.Names), loopback...))}}
	if err := e.refresh(ctx); err != nil {
		return nil, err
	}
	e.routes()
	return e, nil
}

// normalizeNames lower-cases names, strips brackets and a final dot, and
// drops blanks and duplicates.
func normalizeNames(in []string) []string {
	var out []string
	for _, n := range in {
		n = strings.TrimSuffix(strings.Trim(strings.ToLower(strings.TrimSpace(n)), "[]"), ".")
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// refresh puts the custom certificates in use when all three files are
// there and usable, else the default certificate, renewing it when due.
// Unusable custom files are logged once; what is in use stays then.
func (e *Endpoint) refresh(ctx context.Context) error {
	cs, ok, err := loadCustom(e.reg.cfg.CertDir)
	cur := e.cur.Load()
	switch {
	case ok && err == nil:
		e.broken = ""
		if cur != nil && cur.state == cs.state {
			return nil
		}
		return e.useCustom(ctx, cs)
	case ok:
		if e.broken != err.Error() {
			e.broken = err.Error()
			e.log.Error("custom agent endpoint certificates unusable; the certificates in use stay", "err", err)
		}
		if cur != nil {
			return nil
		}
	}
	return e.useDefault(ctx)
}

func (e *Endpoint) useCustom(ctx context.Context, cs *customCerts) error {
	pool, err := e.clientCAs(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs.cas {
		pool.AddCert(c)
	}
	e.use(&certSet{source: SourceCustom, cert: cs.cert, state: cs.state}, pool, cs.top())
	return nil
}

// useDefault serves the default certificate, loading or issuing it first
// when needed. A failed renewal keeps the one in use and is retried.
func (e *Endpoint) useDefault(ctx context.Context) error {
	now := e.reg.cfg.Now()
	if e.defCert == nil {
		c, err := e.def.load(ctx)
		if err != nil && !errors.Is(err, inventory.ErrNotFound) {
			return err
		}
		e.defCert = c
	}
	reason := "none stored"
	if e.defCert != nil {
		reason = e.def.due(e.defCert.Leaf, now)
	}
	if reason != "" && !now.Before(e.retryAt) {
		c, err := e.def.issue(ctx, e.defCert)
		switch {
		case err != nil && e.defCert == nil:
			return err
		case err != nil:
			e.log.Error("agent endpoint certificate not renewed; will retry", "err", err, "retry_in", retryDelay)
			e.retryAt = now.Add(retryDelay)
		default:
			e.log.Info("agent endpoint certificate issued", "reason", reason,
				"fingerprint", inventory.SHA256Hex(c.Leaf.Raw), "names", e.def.names, "not_after", c.Leaf.NotAfter)
			e.defCert = c
		}
	}
	if cur := e.cur.Load(); cur != nil && cur.cert == e.defCert {
		return nil
	}
	pool, err := e.clientCAs(ctx)
	if err != nil {
		return err
	}
	top, err := x509.ParseCertificate(e.defCert.Certificate[len(e.defCert.Certificate)-1])
	if err != nil {
		return err
	}
	e.use(&certSet{source: SourceDefault, cert: e.defCert}, pool, top)
	return nil
}

// clientCAs is a pool of the built-in default CA's chain, which issues
// the agents' certificates.
func (e *Endpoint) clientCAs(ctx context.Context) (*x509.CertPool, error) {
	chain, err := e.reg.caChain(ctx)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range chain {
		pool.AddCert(c)
	}
	return pool, nil
}

// use puts s in use and logs it.
func (e *Endpoint) use(s *certSet, clientCAs *x509.CertPool, top *x509.Certificate) {
	s.tls = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*s.cert},
		ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: clientCAs}
	e.cur.Store(s)
	leaf := s.cert.Leaf
	e.log.Info("agent endpoint certificates in use", "source", s.source,
		"fingerprint", inventory.SHA256Hex(leaf.Raw), "subject", leaf.Subject.String(), "not_after", leaf.NotAfter,
		"key_pin", SPKIPin(leaf), "ca", top.Subject.String(), "ca_pin", SPKIPin(top))
	if e.reg.cfg.Now().After(leaf.NotAfter) {
		e.log.Warn("the agent endpoint certificate in use has expired", "source", s.source, "not_after", leaf.NotAfter)
	}
}

// TLSConfig returns the server configuration: the certificates in use,
// TLS 1.2 and later, client certificates verified when given.
func (e *Endpoint) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return e.cur.Load().tls, nil }}
}

// Source is SourceDefault or SourceCustom: the certificates in use.
func (e *Endpoint) Source() string { return e.cur.Load().source }

// Listen binds the configured address (or takes the configured
// Listener) and returns the bound address; Run serves on it.
func (e *Endpoint) Listen() (net.Addr, error) {
	ln := e.cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", e.cfg.Addr); err != nil {
			return nil, fmt.Errorf("agent: endpoint: %w", err)
		}
	}
	e.ln = ln
	e.log.Info("listening for agents", "addr", ln.Addr().String())
	return ln.Addr(), nil
}

// Refresh looks at the certificates once: the custom files when they are
// there and usable, else the default certificate, renewed when due. Call
// it from one goroutine at a time, with a negative Poll.
func (e *Endpoint) Refresh(ctx context.Context) error { return e.refresh(ctx) }

// Run serves until ctx ends, then shuts down gracefully and returns nil;
// it looks at the certificates every Poll meanwhile. It listens first
// when Listen was not called.
func (e *Endpoint) Run(ctx context.Context) error {
	if e.ln == nil {
		if _, err := e.Listen(); err != nil {
			return err
		}
	}
	ln := e.ln
	srv := &http.Server{Handler: e.Handler(), TLSConfig: e.TLSConfig(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(e.log.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	var tick <-chan time.Time
	if e.cfg.Poll > 0 {
		t := time.NewTicker(e.cfg.Poll)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case err := <-errc:
			return fmt.Errorf("agent: endpoint: %w", err)
		case <-tick:
			if err := e.refresh(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("agent endpoint certificates", "err", err)
			}
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				return fmt.Errorf("agent: endpoint: shutdown: %w", err)
			}
			return nil
		}
	}
}
