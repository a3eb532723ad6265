package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/certkeeper/certkeeper/internal/access"
	"github.com/certkeeper/certkeeper/internal/agent"
	"github.com/certkeeper/certkeeper/internal/atomicfile"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/scheduler"
	"github.com/certkeeper/certkeeper/internal/server"
	"github.com/certkeeper/certkeeper/internal/webtls"
)

// CAFileName is the default CA chain, written into DATA-DIR/certs at every
// start for clients (browsers, "certkeeper --server") to trust.
const CAFileName = "certkeeper-ca.pem"

// Process is a whole certkeeper service: the services of a Stack, its
// listeners, its HTTPS certificate, IP allow-list, agent endpoint and
// background loops. Run serves; Close releases what Run did not.
type Process struct {
	*Stack
	// Web keeps the HTTPS certificate; Allow is the IP allow-list.
	Web   *webtls.Manager
	Allow *access.List
	// Scheduler runs the durable background jobs (the Job* kinds); Run
	// runs it.
	Scheduler *scheduler.Scheduler

	cfg       Config
	dataDir   string
	instance  string
	stdout    io.Writer
	log       *slog.Logger
	lns       *listeners
	srv       *server.Server
	loops     []func(context.Context) error
	owned     inventory.Store // opened by the process itself: Close closes it
	closeOnce sync.Once
}

// NewProcess builds the whole process of cfg. It binds every listener
// first, so that an address in use fails it before anything is created;
// then it opens the inventory, makes the default CA and the first admin
// when missing, writes DATA-DIR/certs/certkeeper-ca.pem, and prepares the
// HTTPS certificate, the allow-list and the agent endpoint. A failed
// NewProcess leaves nothing open.
func NewProcess(ctx context.Context, cfg Config) (*Process, error) {
	cfg = cfg.withDefaults()
	pc := cfg.Process
	if (pc.TLSCertFile == "") != (pc.TLSKeyFile == "") {
		return nil, errors.New("stack: a custom HTTPS certificate file needs its key file, and a key file its certificate file")
	}
	if err := checkJobEvery(pc.JobEvery); err != nil {
		return nil, err
	}
	p := &Process{cfg: cfg, dataDir: first(pc.DataDir, "certkeeper-data"), stdout: pc.Stdout, log: cfg.Log}
	if p.stdout == nil {
		p.stdout = io.Discard
	}
	lns, err := bind(pc)
	if err != nil {
		return nil, err
	}
	p.lns = lns
	if err := p.build(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// build does NewProcess's work once the listeners are bound.
func (p *Process) build(ctx context.Context) error {
	if err := os.MkdirAll(p.dataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	var err error
	if p.instance, err = instanceName(p.cfg.Process.Instance, p.dataDir); err != nil {
		return err
	}
	st, sealer, err := p.open(ctx)
	if err != nil {
		return err
	}
	if err := p.services(ctx, st, sealer); err != nil {
		return err
	}
	passwordFile, err := p.ensureAdmin(ctx)
	if err != nil {
		return err
	}
	if err := p.writeCAFile(ctx); err != nil {
		return err
	}
	if err := p.webCertificate(ctx); err != nil {
		return err
	}
	if err := p.server(passwordFile); err != nil {
		return err
	}
	agentRefresh, err := p.agentEndpoint(ctx)
	if err != nil {
		return err
	}
	if err := p.schedule(agentRefresh); err != nil {
		return err
	}
	p.loops = append(p.loops, p.Scheduler.Run)
	return nil
}

// open opens the inventory with the configured opener or the default one.
func (p *Process) open(ctx context.Context) (inventory.Store, *keys.Sealer, error) {
	if open := p.cfg.Process.Open; open != nil {
		return open(ctx)
	}
	st, sealer, err := OpenDataDir(ctx, p.dataDir)
	p.owned = st
	return st, sealer, err
}

// services makes the default CA when missing, opens the allow-list and
// assembles the services.
func (p *Process) services(ctx context.Context, st inventory.Store, sealer *keys.Sealer) error {
	cfg := p.cfg
	if cfg.Authority == nil {
		cfg.Authority = newAuthority(st, sealer, cfg)
	}
	if err := ensureCA(ctx, cfg, p.log); err != nil {
		return err
	}
	if cfg.Access == nil {
		allow, err := access.Open(filepath.Join(p.dataDir, "allowlist.txt"), st, p.log)
		if err != nil {
			return err
		}
		cfg.Access = allow
	}
	p.Allow = cfg.Access
	if cfg.AgentCertDir == "" {
		cfg.AgentCertDir = filepath.Join(p.dataDir, "certs", "agent")
	}
	s, err := New(ctx, st, sealer, cfg)
	if err != nil {
		return err
	}
	p.Stack = s
	return nil
}

// ensureCA creates the default CA on first start and logs which CA is in
// use.
func ensureCA(ctx context.Context, cfg Config, log *slog.Logger) error {
	c, created, err := cfg.Authority.EnsureDefault(ctx)
	if err != nil {
		return err
	}
	log.Info("certificate authority", "ca", c.Name, "id", c.ID, "created", created)
	if cfg.ExternalURL == "" {
		log.Warn("no --external-url: issued certificates carry no CRL or OCSP URL")
	}
	return nil
}

// writeCAFile writes the default CA chain to DATA-DIR/certs.
func (p *Process) writeCAFile(ctx context.Context) error {
	certs := filepath.Join(p.dataDir, "certs")
	if err := os.MkdirAll(certs, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	chain, err := p.DefaultCAChainPEM(ctx)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(certs, CAFileName), chain, 0o644)
}

// webCertificate prepares the HTTPS certificate: the custom one when
// there is one, else one issued by the default CA.
func (p *Process) webCertificate(ctx context.Context) error {
	pc := p.cfg.Process
	inv := webtls.NewInventory(p.Store, p.Authority, p.Sealer)
	web, err := webtls.New(ctx, webtls.Config{
		Names:      pc.Hostnames,
		CustomFile: filepath.Join(p.dataDir, "certs", "web-server.pem"), CertFile: pc.TLSCertFile, KeyFile: pc.TLSKeyFile,
		Now: p.cfg.Now,
	}, inv, inv, p.log)
	p.Web = web
	return err
}

// server prepares the HTTPS and PKI listeners' server and the built-in
// loops that keep what it serves up to date.
func (p *Process) server(passwordFile string) error {
	ui, err := p.UI(passwordFile, p.log)
	if err != nil {
		return err
	}
	proxies := p.cfg.Proxies
	p.srv = server.New(server.Config{
		Listener: p.lns.main, PlainListener: p.lns.pki,
		TLS:   p.Web.TLSConfig(),
		Guard: func(h http.Handler) http.Handler { return p.Allow.Guard(proxies, h) },
		PKI: &server.PKIHandlers{CACert: p.Revocation.CACertHandler(), CRL: p.Revocation.CRLHandler(),
			OCSP: p.Revocation.OCSPHandler()},
		API:     p.API.Handler(),
		UI:      ui.Handler(),
		Metrics: p.metricsHandlers(), MetricsListener: p.lns.metrics,
	}, p.Store, p.log)
	return nil
}

// agentEndpoint prepares the HTTPS endpoint for deployment agents and
// adds its loop, unless the agent listener is off. It returns the
// endpoint's certificate refresh, which the scheduler runs (nil when
// off).
func (p *Process) agentEndpoint(ctx context.Context) (func(context.Context) error, error) {
	if p.lns.agent == nil {
		return nil, nil
	}
	ep, err := agent.NewEndpoint(ctx, p.Agents, p.Deploy, p.Sealer,
		agent.EndpointConfig{Listener: p.lns.agent, Names: p.cfg.Process.Hostnames, Poll: -1}, p.log)
	if err != nil {
		return nil, err
	}
	bound, err := ep.Listen()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(p.stdout, "deployment agents connect to https://%s (enrollment and jobs, mutual TLS)\n", bound)
	p.loops = append(p.loops, ep.Run)
	return ep.Refresh, nil
}

// Addr returns the bound address of the listener named ListenerMain,
// ListenerPKI, ListenerAgent or ListenerMetrics; nil when that listener
// is off.
func (p *Process) Addr(listener string) net.Addr {
	ln := map[string]net.Listener{ListenerMain: p.lns.main, ListenerPKI: p.lns.pki, ListenerAgent: p.lns.agent,
		ListenerMetrics: p.lns.metrics}[listener]
	if ln == nil {
		return nil
	}
	return ln.Addr()
}

// Run serves and runs the background loops until ctx is cancelled (or a
// listener or loop fails), then stops them all and returns. It is called
// once.
func (p *Process) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	loops := slices.Concat(p.loops, p.cfg.Process.Loops)
	done := make(chan error, len(loops))
	for _, run := range loops {
		go func() { done <- run(ctx) }()
	}
	err := p.srv.Run(ctx, p.ready)
	cancel()
	for range loops {
		if lerr := <-done; err == nil && lerr != nil && !errors.Is(lerr, context.Canceled) {
			err = lerr
		}
	}
	return err
}

// ready tells the operator where the process serves.
func (p *Process) ready(addrs server.Addrs) {
	fmt.Fprintf(p.stdout, "certkeeper is serving on https://%s (web UI; API: /api/v1/; health: /healthz, /readyz)\n", addrs.Main)
	if addrs.Plain != nil {
		fmt.Fprintf(p.stdout, "CA certificates, CRLs and OCSP over plain HTTP on http://%s/pki/\n", addrs.Plain)
	}
	if addrs.Metrics != nil {
		fmt.Fprintf(p.stdout, "Prometheus metrics over plain HTTP on http://%s/metrics\n", addrs.Metrics)
	}
}

// Close closes the listeners Run did not serve, and the inventory when
// the process opened it itself. It is safe to call more than once and
// after Run.
func (p *Process) Close() error {
	var err error
	p.closeOnce.Do(func() {
		p.lns.close()
		if p.owned != nil {
			err = p.owned.Close()
		}
	})
	return err
}
