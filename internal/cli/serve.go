package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/access"
	"github.com/certkeeper/certkeeper/internal/agent"
	"github.com/certkeeper/certkeeper/internal/atomicfile"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/revocation"
	"github.com/certkeeper/certkeeper/internal/server"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/webtls"
)

// serveOptions are the flags of "certkeeper serve".
type serveOptions struct {
	listen         string
	pkiListen      string
	agentListen    string
	hostnames      []string
	tlsCert        string
	tlsKey         string
	trustedProxies []string
	logFormat      string
	crlValidity    time.Duration
	crlRefresh     time.Duration
}

func (a *app) serveCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the certkeeper service (web UI, API, CA publication) until interrupted",
		Long: "serve runs certkeeper's HTTPS listener (web UI, REST API at /api/v1/ described at\n" +
			"/api/openapi.json, health at /healthz and /readyz) and a plain-HTTP listener that publishes\n" +
			"every CA's certificate (/pki/ca/ID.crt|.pem), CRL (/pki/crl/ID.crl|.pem) and OCSP responder\n" +
			"(/pki/ocsp/ID). On first start it creates the default CA, an admin user with a one-time\n" +
			"password (printed once and kept in DATA-DIR/initial-admin-password), and the HTTPS\n" +
			"certificate, issued by the default CA for the host names given plus localhost and renewed\n" +
			"before it expires. A custom certificate (chain and key in one PEM file) dropped at\n" +
			"DATA-DIR/certs/web-server.pem replaces it without a restart. The IP allow-list is\n" +
			"DATA-DIR/allowlist.txt, reloaded when it changes. Deployment agents enroll and fetch their jobs\n" +
			"on a third HTTPS listener (--agent-listen, mutual TLS; see docs/agent.md). Every listener\n" +
			"is bound before anything is created, so a port in use fails the start and changes nothing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runServe(cmd.Context(), &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "", "HTTPS listen address (env CERTKEEPER_LISTEN; default 127.0.0.1:8443)")
	f.StringVar(&o.pkiListen, "pki-listen", "", "plain-HTTP listen address for CA certificates, CRLs and OCSP, or \"off\" (env CERTKEEPER_PKI_LISTEN; default 127.0.0.1:8080)")
	f.StringVar(&o.agentListen, "agent-listen", "", "HTTPS listen address for deployment agents (mutual TLS; certificates in DATA-DIR/certs/agent when all of ca.crt, server.crt and server.key are there), or \"off\" (env CERTKEEPER_AGENT_LISTEN; default "+agent.DefaultListen+")")
	f.StringSliceVar(&o.hostnames, "hostname", nil, "host name or IP address the web UI is reached by, for its certificate (repeatable; env CERTKEEPER_HOSTNAMES, comma-separated)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "custom HTTPS certificate file with its chain, instead of DATA-DIR/certs/web-server.pem (env CERTKEEPER_TLS_CERT; needs --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "key of --tls-cert (env CERTKEEPER_TLS_KEY)")
	f.StringSliceVar(&o.trustedProxies, "trusted-proxy", nil, "reverse proxy address or CIDR whose X-Forwarded-For is believed (repeatable; env CERTKEEPER_TRUSTED_PROXIES, comma-separated)")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.DurationVar(&o.crlValidity, "crl-validity", 0, "time from a CRL's thisUpdate to its nextUpdate (env CERTKEEPER_CRL_VALIDITY; default 24h)")
	f.DurationVar(&o.crlRefresh, "crl-refresh", 0, "age at which a CRL is replaced (env CERTKEEPER_CRL_REFRESH; default half of the validity)")
	return cmd
}

// listSetting is a repeatable flag's values, or else the comma-separated
// environment variable's.
func listSetting(flag []string, env string) []string {
	if len(flag) > 0 {
		return flag
	}
	var out []string
	for _, v := range strings.Split(env, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (a *app) runServe(ctx context.Context, o *serveOptions) error {
	log, err := newLogger(a.env, o.logFormat)
	if err != nil {
		return err
	}
	if _, err := a.cfg.resolvedExternalURL(); err != nil {
		return err
	}
	proxies, err := access.ParseProxies(listSetting(o.trustedProxies, a.env.Getenv("CERTKEEPER_TRUSTED_PROXIES")))
	if err != nil {
		return fmt.Errorf("--trusted-proxy: %w", err)
	}
	tlsCert, tlsKey := first(o.tlsCert, a.env.Getenv("CERTKEEPER_TLS_CERT")), first(o.tlsKey, a.env.Getenv("CERTKEEPER_TLS_KEY"))
	if (tlsCert == "") != (tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	validity, refresh, err := crlSettings(a.env.Getenv, o.crlValidity, o.crlRefresh)
	if err != nil {
		return err
	}
	lns, err := a.bindListeners(o)
	if err != nil {
		return err
	}
	defer lns.close()
	auth, err := a.authority(ctx)
	if err != nil {
		return err
	}
	log.Info("inventory open", "database", redactDatabase(a.cfg.resolvedDatabase()),
		"master_key_id", a.sealer.KeyID())
	external, _ := a.cfg.resolvedExternalURL()
	if err := ensureCA(ctx, auth, log, external); err != nil {
		return err
	}
	dataDir := a.cfg.resolvedDataDir()
	allow, err := access.Open(filepath.Join(dataDir, "allowlist.txt"), a.store, log)
	if err != nil {
		return err
	}
	st, err := stack.New(ctx, a.store, a.sealer, stack.Config{Authority: auth, Access: allow, Proxies: proxies,
		Revocation: revocation.Config{CRLValidity: validity, CRLRefresh: refresh}, Now: a.env.Now, Log: log,
		AgentCertDir: filepath.Join(dataDir, "certs", "agent")})
	if err != nil {
		return err
	}
	passwordFile, err := a.ensureAdmin(ctx, st, dataDir, log)
	if err != nil {
		return err
	}
	certs := filepath.Join(dataDir, "certs")
	if err := os.MkdirAll(certs, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := writeCAFile(ctx, st, filepath.Join(certs, caFileName)); err != nil {
		return err
	}
	names := listSetting(o.hostnames, a.env.Getenv("CERTKEEPER_HOSTNAMES"))
	inv := webtls.NewInventory(a.store, auth, a.sealer)
	web, err := webtls.New(ctx, webtls.Config{
		Names:      names,
		CustomFile: filepath.Join(certs, "web-server.pem"), CertFile: tlsCert, KeyFile: tlsKey, Now: a.env.Now,
	}, inv, inv, log)
	if err != nil {
		return err
	}
	ui, err := st.UI(passwordFile, log)
	if err != nil {
		return err
	}
	srv := server.New(server.Config{
		Listener: lns.main, PlainListener: lns.pki,
		TLS:   web.TLSConfig(),
		Guard: func(h http.Handler) http.Handler { return allow.Guard(proxies, h) },
		PKI: &server.PKIHandlers{CACert: st.Revocation.CACertHandler(), CRL: st.Revocation.CRLHandler(),
			OCSP: st.Revocation.OCSPHandler()},
		API: st.API.Handler(),
		UI:  ui.Handler(),
	}, a.store, log)
	loops := []func(context.Context) error{
		revocation.NewRefresher(st.Revocation, nil, log).Run,
		web.Run,
		allow.Run,
		func(ctx context.Context) error { return expireSessions(ctx, st, log) },
		func(ctx context.Context) error { return st.Outbound.Refresh(ctx, 30*time.Second, log) },
	}
	if run, err := a.agentEndpoint(ctx, st, lns.agent, names, log); err != nil {
		return err
	} else if run != nil {
		loops = append(loops, run)
	}
	return a.serveUntilDone(ctx, srv, loops)
}

// agentEndpoint prepares the HTTPS endpoint for deployment agents on ln
// and returns its loop, or nil when ln is nil (--agent-listen off).
func (a *app) agentEndpoint(ctx context.Context, st *stack.Stack, ln net.Listener, names []string, log *slog.Logger) (func(context.Context) error, error) {
	if ln == nil {
		return nil, nil
	}
	ep, err := agent.NewEndpoint(ctx, st.Agents, st.Deploy, a.sealer, agent.EndpointConfig{Listener: ln, Names: names}, log)
	if err != nil {
		return nil, err
	}
	bound, err := ep.Listen()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(a.env.Stdout, "deployment agents connect to https://%s (enrollment and jobs, mutual TLS)\n", bound)
	return ep.Run, nil
}

// caFileName is the default CA chain, written into DATA-DIR/certs at
// every start for clients (browsers, "certkeeper --server") to trust.
const caFileName = "certkeeper-ca.pem"

func writeCAFile(ctx context.Context, st *stack.Stack, path string) error {
	chain, err := st.DefaultCAChainPEM(ctx)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, chain, 0o644)
}

// expireSessions deletes ended web sessions every ten minutes.
func expireSessions(ctx context.Context, st *stack.Stack, log *slog.Logger) error {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if n, err := st.Users.ExpireSessions(ctx); err != nil && ctx.Err() == nil {
			log.Warn("expiring web sessions", "err", err)
		} else if n > 0 {
			log.Info("web sessions expired", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// apiHandler builds the REST API over the open inventory for the local
// command line.
func (a *app) apiHandler(ctx context.Context, auth *ca.Authority, log *slog.Logger) (http.Handler, error) {
	st, err := stack.New(ctx, a.store, a.sealer, stack.Config{Authority: auth, Now: a.env.Now, Log: log,
		AgentCertDir: filepath.Join(a.cfg.resolvedDataDir(), "certs", "agent")})
	if err != nil {
		return nil, err
	}
	return st.API.Handler(), nil
}

// ensureCA creates the default CA on first start and logs which CA is in
// use.
func ensureCA(ctx context.Context, auth *ca.Authority, log *slog.Logger, external string) error {
	c, created, err := auth.EnsureDefault(ctx)
	if err != nil {
		return err
	}
	log.Info("certificate authority", "ca", c.Name, "id", c.ID, "created", created)
	if external == "" {
		log.Warn("no --external-url: issued certificates carry no CRL or OCSP URL")
	}
	return nil
}

// serveUntilDone runs the listeners and the background loops until ctx is
// cancelled (or a listener fails), then stops them all.
func (a *app) serveUntilDone(ctx context.Context, srv *server.Server, loops []func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, len(loops))
	for _, run := range loops {
		go func() { done <- run(ctx) }()
	}
	err := srv.Run(ctx, func(addrs server.Addrs) {
		fmt.Fprintf(a.env.Stdout, "certkeeper is serving on https://%s (web UI; API: /api/v1/; health: /healthz, /readyz)\n", addrs.Main)
		if addrs.Plain != nil {
			fmt.Fprintf(a.env.Stdout, "CA certificates, CRLs and OCSP over plain HTTP on http://%s/pki/\n", addrs.Plain)
		}
	})
	cancel()
	for range loops {
		if lerr := <-done; err == nil && lerr != nil && !errors.Is(lerr, context.Canceled) {
			err = lerr
		}
	}
	return err
}

// externalURL checks the --external-url value: an absolute http or https
// URL without query or fragment; "" is allowed.
func externalURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--external-url %q: want an absolute http:// or https:// URL such as http://pki.example.com", s)
	}
	return s, nil
}

func newLogger(env Env, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(env.Stderr, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(env.Stderr, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// redactDatabase hides a password in a PostgreSQL URL before logging it.
func redactDatabase(db string) string {
	if !isPostgres(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://(unparseable URL)"
	}
	return u.Redacted()
}
