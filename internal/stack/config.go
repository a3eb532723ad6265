package stack

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"time"

	"github.com/certkeeper/certkeeper/internal/access"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/revocation"
	"github.com/certkeeper/certkeeper/internal/users"
)

// Config configures the services (New) and the whole process
// (NewProcess). The zero value is usable: a process over a SQLite
// inventory in ./certkeeper-data serving HTTPS on 127.0.0.1:8443, the
// PKI on 127.0.0.1:8080 and the agents on agent.DefaultListen.
type Config struct {
	// Authority is the CA service to use; nil builds one from ExternalURL
	// and Organization.
	Authority *ca.Authority
	// ExternalURL is written into issued certificates' CRL and OCSP URLs;
	// "" writes none. It is not checked here.
	ExternalURL string
	// Organization names the organisation of new CAs; "" means the ca
	// package's default.
	Organization string
	// Revocation tunes CRLs and OCSP (zero: package defaults).
	Revocation revocation.Config
	// MailRoots verify SMTP servers; nil means the system roots.
	MailRoots *x509.CertPool
	// MailTimeout bounds one e-mail delivery; 0 means the mail package's
	// default.
	MailTimeout time.Duration
	// Access is the IP allow-list. New leaves the allow-list routes
	// unusable when it is nil; NewProcess opens DATA-DIR/allowlist.txt.
	Access *access.List
	// Proxies are the trusted reverse proxies; the zero value trusts none.
	Proxies access.Proxies
	// PasswordParams, when set, replace the argon2id costs (tests).
	PasswordParams *users.Params
	// AgentCertDir holds the agent endpoint's custom certificates. For
	// New "" means the built-in ones only; NewProcess defaults it to
	// DATA-DIR/certs/agent.
	AgentCertDir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives the services' errors and the process's log; nil
	// discards them.
	Log *slog.Logger

	// Process holds what only NewProcess reads.
	Process ProcessConfig
}

// ProcessConfig is the part of Config that only a whole process uses:
// where it keeps its files and what it listens on.
type ProcessConfig struct {
	// DataDir holds the allow-list, the first admin's password file and
	// the certificates (certs/); "" means "certkeeper-data" in the working
	// directory.
	DataDir string
	// Open opens the inventory and its master key, after every listener
	// is bound; the caller keeps ownership of what it returns. nil opens
	// (creating them when missing) the SQLite inventory DATA-DIR/
	// certkeeper.db and the master key DATA-DIR/master.key, which the
	// process then closes.
	Open func(context.Context) (inventory.Store, *keys.Sealer, error)
	// Listen is the HTTPS address (web UI, API, health); "" means
	// 127.0.0.1:8443.
	Listen string
	// PKIListen is the plain-HTTP address publishing CA certificates,
	// CRLs and OCSP; "" means 127.0.0.1:8080 and "off" none.
	PKIListen string
	// AgentListen is the agents' mutual-TLS address; "" means
	// agent.DefaultListen and "off" none.
	AgentListen string
	// MetricsListen is the plain-HTTP address serving only the
	// Prometheus metrics (GET /metrics, no authentication, behind the IP
	// allow-list); "" and "off" mean none. The serve command defaults it
	// to 127.0.0.1:9464. The HTTPS listener serves /metrics to API tokens
	// either way.
	MetricsListen string
	// Hostnames are the names and addresses the web UI and the agent
	// endpoint are reached by, for their certificates (the loopback
	// names are always added).
	Hostnames []string
	// TLSCertFile and TLSKeyFile are a custom HTTPS certificate (with its
	// chain) and its key, used instead of DATA-DIR/certs/web-server.pem.
	// Set both or neither.
	TLSCertFile, TLSKeyFile string
	// Stdout receives the messages for the operator: the first admin's
	// password and the addresses served. nil discards them.
	Stdout io.Writer
	// Loops are background tasks run beside the scheduler's jobs (see
	// Process.Scheduler and the Job* kinds) and the servers until Run's
	// context ends. A loop returns nil (or context.Canceled) once its
	// context is done; any other error ends Run with it.
	Loops []func(context.Context) error
	// Instance names this instance in the scheduler's leases, history and
	// per-instance jobs; "" means the name kept in DATA-DIR/instance-name
	// (made on first start from the host name and a random suffix).
	Instance string
	// SchedulerPoll is how often the scheduler looks for due jobs and
	// renews its leases; 0 means scheduler.DefaultPoll.
	SchedulerPoll time.Duration
	// JobEvery replaces the interval of the named job kinds (without
	// jitter), e.g. to run session-expiry every few seconds in a test.
	JobEvery map[string]time.Duration
}

// withDefaults fills in the zero fields New and NewProcess share.
func (cfg Config) withDefaults() Config {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}
