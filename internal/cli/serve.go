package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/access"
	"github.com/certkeeper/certkeeper/internal/agent"
	"github.com/certkeeper/certkeeper/internal/revocation"
	"github.com/certkeeper/certkeeper/internal/stack"
)

// serveOptions are the flags of "certkeeper serve".
type serveOptions struct {
	listen         string
	pkiListen      string
	agentListen    string
	metricsListen  string
	metricsSet     bool // --metrics-listen was given
	hostnames      []string
	tlsCert        string
	tlsKey         string
	trustedProxies []string
	logFormat      string
	crlValidity    time.Duration
	crlRefresh     time.Duration
	instance       string
	schedulerPoll  time.Duration
	jobEvery       []string
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
			"on a third HTTPS listener (--agent-listen, mutual TLS; see docs/agent.md). Prometheus\n" +
			"metrics are served over plain HTTP on --metrics-listen (/metrics only) and on the HTTPS\n" +
			"listener at /metrics to any API token (see docs/metrics.md). Every listener is bound before\n" +
			"anything is created, so a port in use fails the start and changes nothing.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.metricsSet = cmd.Flags().Changed("metrics-listen")
			return a.runServe(cmd.Context(), &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "", "HTTPS listen address (env CERTKEEPER_LISTEN; default 127.0.0.1:8443)")
	f.StringVar(&o.pkiListen, "pki-listen", "", "plain-HTTP listen address for CA certificates, CRLs and OCSP, or \"off\" (env CERTKEEPER_PKI_LISTEN; default 127.0.0.1:8080)")
	f.StringVar(&o.agentListen, "agent-listen", "", "HTTPS listen address for deployment agents (mutual TLS; certificates in DATA-DIR/certs/agent when all of ca.crt, server.crt and server.key are there), or \"off\" (env CERTKEEPER_AGENT_LISTEN; default "+agent.DefaultListen+")")
	f.StringVar(&o.metricsListen, "metrics-listen", defaultMetricsListen, "plain-HTTP listen address serving only the Prometheus metrics at /metrics, or \"\" or \"off\" for none (env CERTKEEPER_METRICS_LISTEN)")
	f.StringSliceVar(&o.hostnames, "hostname", nil, "host name or IP address the web UI is reached by, for its certificate (repeatable; env CERTKEEPER_HOSTNAMES, comma-separated)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "custom HTTPS certificate file with its chain, instead of DATA-DIR/certs/web-server.pem (env CERTKEEPER_TLS_CERT; needs --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "key of --tls-cert (env CERTKEEPER_TLS_KEY)")
	f.StringSliceVar(&o.trustedProxies, "trusted-proxy", nil, "reverse proxy address or CIDR whose X-Forwarded-For is believed (repeatable; env CERTKEEPER_TRUSTED_PROXIES, comma-separated)")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.DurationVar(&o.crlValidity, "crl-validity", 0, "time from a CRL's thisUpdate to its nextUpdate (env CERTKEEPER_CRL_VALIDITY; default 24h)")
	f.DurationVar(&o.crlRefresh, "crl-refresh", 0, "age at which a CRL is replaced (env CERTKEEPER_CRL_REFRESH; default half of the validity)")
	f.StringVar(&o.instance, "instance-name", "", "name of this instance in the scheduler's leases, history and per-instance jobs (env CERTKEEPER_INSTANCE; default kept in DATA-DIR/instance-name)")
	f.DurationVar(&o.schedulerPoll, "scheduler-poll", 0, "how often the scheduler looks for due jobs and renews its leases (default 5s)")
	f.StringSliceVar(&o.jobEvery, "job-every", nil, "KIND=DURATION: run a job kind at this interval instead of its own (repeatable; e.g. session-expiry=1m; see docs/scheduler.md)")
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
	cfg, err := a.serveConfig(o)
	if err != nil {
		return err
	}
	p, err := stack.NewProcess(ctx, cfg)
	if err != nil {
		return a.openError(listenFlagError(err))
	}
	defer p.Close()
	return p.Run(ctx)
}

// serveConfig reads the flags and the environment into the process's
// configuration, checking every setting before anything is created.
func (a *app) serveConfig(o *serveOptions) (stack.Config, error) {
	log, err := newLogger(a.env, o.logFormat)
	if err != nil {
		return stack.Config{}, err
	}
	external, err := a.cfg.resolvedExternalURL()
	if err != nil {
		return stack.Config{}, err
	}
	proxies, err := access.ParseProxies(listSetting(o.trustedProxies, a.env.Getenv("CERTKEEPER_TRUSTED_PROXIES")))
	if err != nil {
		return stack.Config{}, fmt.Errorf("--trusted-proxy: %w", err)
	}
	tlsCert, tlsKey := first(o.tlsCert, a.env.Getenv("CERTKEEPER_TLS_CERT")), first(o.tlsKey, a.env.Getenv("CERTKEEPER_TLS_KEY"))
	if (tlsCert == "") != (tlsKey == "") {
		return stack.Config{}, errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	validity, refresh, err := crlSettings(a.env.Getenv, o.crlValidity, o.crlRefresh)
	if err != nil {
		return stack.Config{}, err
	}
	every, err := parseJobEvery(o.jobEvery)
	if err != nil {
		return stack.Config{}, err
	}
	if o.schedulerPoll < 0 {
		return stack.Config{}, errors.New("--scheduler-poll: want a positive duration")
	}
	return stack.Config{
		ExternalURL: external, Organization: a.env.Getenv("CERTKEEPER_ORGANIZATION"),
		Revocation: revocation.Config{CRLValidity: validity, CRLRefresh: refresh},
		Proxies:    proxies, Now: a.env.Now, Log: log,
		Process: stack.ProcessConfig{
			DataDir:       a.cfg.resolvedDataDir(),
			Open:          a.inventoryLogged(log).Open,
			Listen:        first(o.listen, a.env.Getenv("CERTKEEPER_LISTEN")),
			PKIListen:     first(o.pkiListen, a.env.Getenv("CERTKEEPER_PKI_LISTEN")),
			AgentListen:   first(o.agentListen, a.env.Getenv("CERTKEEPER_AGENT_LISTEN")),
			MetricsListen: metricsListen(o, a.env.Getenv("CERTKEEPER_METRICS_LISTEN")),
			Hostnames:     listSetting(o.hostnames, a.env.Getenv("CERTKEEPER_HOSTNAMES")),
			TLSCertFile:   tlsCert, TLSKeyFile: tlsKey,
			Stdout:   a.env.Stdout,
			Instance: first(o.instance, a.env.Getenv("CERTKEEPER_INSTANCE")), SchedulerPoll: o.schedulerPoll,
			JobEvery: every,
		},
	}, nil
}

// defaultMetricsListen is where serve offers its metrics unless told
// otherwise: loopback only.
const defaultMetricsListen = "127.0.0.1:9464"

// metricsListen is the metrics address: the flag's when given ("" turns
// the listener off), else the environment's when set, else the default.
func metricsListen(o *serveOptions, env string) string {
	if o.metricsSet || env == "" {
		return o.metricsListen
	}
	return env
}

// parseJobEvery reads --job-every's KIND=DURATION values. Whether the
// kind exists is checked when the process builds its scheduler.
func parseJobEvery(vals []string) (map[string]time.Duration, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	out := make(map[string]time.Duration, len(vals))
	for _, v := range vals {
		kind, ds, ok := strings.Cut(v, "=")
		d, err := time.ParseDuration(ds)
		if !ok || kind == "" || err != nil || d <= 0 {
			return nil, fmt.Errorf("--job-every %q: want KIND=DURATION, e.g. session-expiry=1m", v)
		}
		out[kind] = d
	}
	return out, nil
}

// inventoryLogged is the inventory, which logs to log once it is open.
func (a *app) inventoryLogged(log *slog.Logger) *stack.Inventory {
	inv := a.inventory()
	inv.Log = log
	return inv
}

// listenFlagError says which flag's address could not be bound.
func listenFlagError(err error) error {
	var le *stack.ListenError
	if !errors.As(err, &le) {
		return err
	}
	flag := "--listen"
	switch le.Listener {
	case stack.ListenerPKI:
		flag = "--pki-listen"
	case stack.ListenerAgent:
		flag = "--agent-listen"
	case stack.ListenerMetrics:
		flag = "--metrics-listen"
	}
	return fmt.Errorf("%s %s: %w", flag, le.Addr, le.Err)
}

// caFileName is the default CA chain the process writes into
// DATA-DIR/certs for clients to trust.
const caFileName = stack.CAFileName

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
