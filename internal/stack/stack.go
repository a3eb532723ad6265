// Package stack is certkeeper's composition root. New assembles the
// services over one inventory (what the local command line and the
// end-to-end tests use); NewProcess builds the whole long-running service
// around them (listeners, HTTPS certificate, IP allow-list, agent
// endpoint, CA publication, background loops) and Run serves it. The
// serve command, the local command line and the tests share this wiring.
package stack

import (
	"context"
	"encoding/pem"
	"log/slog"
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/internal/acquisition"
	"github.com/certkeeper/certkeeper/internal/agent"
	"github.com/certkeeper/certkeeper/internal/alert"
	"github.com/certkeeper/certkeeper/internal/api"
	"github.com/certkeeper/certkeeper/internal/audit"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/catalogue"
	"github.com/certkeeper/certkeeper/internal/certificates"
	"github.com/certkeeper/certkeeper/internal/dashboard"
	"github.com/certkeeper/certkeeper/internal/definitions"
	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/digest"
	"github.com/certkeeper/certkeeper/internal/export"
	"github.com/certkeeper/certkeeper/internal/importer"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/mail"
	"github.com/certkeeper/certkeeper/internal/monitor"
	"github.com/certkeeper/certkeeper/internal/notify"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/revocation"
	"github.com/certkeeper/certkeeper/internal/settings"
	"github.com/certkeeper/certkeeper/internal/truststore"
	"github.com/certkeeper/certkeeper/internal/users"
	"github.com/certkeeper/certkeeper/internal/web"
)

// Stack is every service over one inventory.
type Stack struct {
	Store        inventory.Store
	Sealer       *keys.Sealer
	Authority    *ca.Authority
	Users        *users.Service
	Definitions  *definitions.Service
	Catalogue    *catalogue.Service
	Acquisitions *acquisition.Service
	Certificates *certificates.Service
	Revocation   *revocation.Service
	Settings     *settings.Service
	Mail         *mail.Service
	// Notify keeps the notification channels and sends notices to them
	// and by e-mail.
	Notify    *notify.Service
	Deploy    *deploy.Service
	Monitor   *monitor.Service
	Agents    *agent.Registry
	Trust     *truststore.Service
	Importer  *importer.Importer
	Export    *export.Service
	Dashboard *dashboard.Service
	// Alerts evaluates the alert rules (job "alerts") and keeps alerts,
	// sending its notices through Notify.
	Alerts *alert.Service
	// Digest makes the daily digest (job "digest") and sends it through
	// Notify.
	Digest *digest.Service
	API    *api.API
	now    func() time.Time
	// alertsWake asks for an alert evaluation after a monitoring pass
	// (the scheduler's JobAlerts listens).
	alertsWake chan struct{}
	// jobs is the API's view of the scheduler, which a Process sets.
	jobs *jobsRef

	// Outbound keeps the outbound policy and its dialer, through which
	// deploy checks, OCSP requests, SSH deployments, e-mail and
	// notifications connect.
	Outbound *outbound.Service
}

// New assembles the services over st, listing the built-in CAs in the
// catalogue.
func New(ctx context.Context, st inventory.Store, sealer *keys.Sealer, cfg Config) (*Stack, error) {
	cfg = cfg.withDefaults()
	s := &Stack{Store: st, Sealer: sealer, Authority: cfg.Authority, now: cfg.Now, jobs: newJobsRef(st, cfg)}
	if s.Authority == nil {
		s.Authority = newAuthority(st, sealer, cfg)
	}
	s.Users = users.New(st, cfg.Now, nil)
	if cfg.PasswordParams != nil {
		s.Users.Params = *cfg.PasswordParams
	}
	s.Definitions = definitions.New(st, cfg.Now)
	s.Catalogue = catalogue.New(st, sealer, cfg.Now)
	if err := s.Catalogue.SyncBuiltin(ctx); err != nil {
		return nil, err
	}
	s.Trust = truststore.New(st, truststore.Options{Now: cfg.Now})
	s.Acquisitions = acquisition.New(st, s.Authority, sealer, acquisition.Config{Now: cfg.Now, Trust: s.Trust})
	rc := cfg.Revocation
	if rc.Now == nil {
		rc.Now = cfg.Now
	}
	var err error
	if s.Revocation, err = revocation.New(st, s.Authority, sealer, rc, cfg.Log); err != nil {
		return nil, err
	}
	s.Settings = settings.New(st, sealer, cfg.Now)
	if s.Outbound, err = newOutbound(ctx, st, cfg.Now); err != nil {
		return nil, err
	}
	dialer := s.Outbound.Dialer()
	s.Mail = mail.New(st, s.Settings, mail.Config{Roots: cfg.MailRoots, Timeout: cfg.MailTimeout, Now: cfg.Now, Outbound: dialer}, cfg.Log)
	s.Notify = notify.New(st, sealer, notify.Options{Now: cfg.Now, Log: cfg.Log, Outbound: dialer, Mail: s.Mail})
	s.Deploy = deploy.NewService(st, sealer, deploy.ServiceOptions{Now: cfg.Now, Log: cfg.Log, Mail: s.Mail,
		Trust: s.Trust, Outbound: dialer})
	s.alertsWake = make(chan struct{}, 1)
	s.Monitor = monitor.New(st, monitor.Config{Now: cfg.Now, Outbound: dialer, Trust: s.Trust, Settings: s.Settings,
		Sealer: sealer, Log: cfg.Log, AfterPass: s.wakeAlerts})
	s.Agents = agent.New(st, s.Authority, agent.Config{CertDir: cfg.AgentCertDir, Now: cfg.Now})
	s.Importer = importer.New(st, sealer, cfg.Now, nil)
	s.Export = export.New(st, sealer, cfg.Now)
	s.Dashboard = dashboard.New(st, s.Definitions, s.Acquisitions, cfg.Now)
	s.Certificates = certificates.New(st)
	s.Alerts = newAlerts(st, s.Settings, s.Notify, cfg)
	s.Digest = s.newDigest(cfg.ExternalURL)
	s.API = api.New(api.Deps{
		Authority: s.Authority, Users: s.Users, Definitions: s.Definitions,
		Certificates: s.Certificates, Keys: keys.NewService(st), Audit: audit.New(st),
		Importer: s.Importer, Export: s.Export, Dashboard: s.Dashboard,
		Catalogue: s.Catalogue, Acquisitions: s.Acquisitions, Revocation: s.Revocation,
		Settings: s.Settings, Mail: s.Mail, Notify: s.Notify, Deploy: s.Deploy, Monitor: s.Monitor, Agents: s.Agents, Outbound: s.Outbound,
		Access: cfg.Access, Proxies: cfg.Proxies, Jobs: s.jobs,
		Now: cfg.Now, Log: cfg.Log, Trust: s.Trust, Alerts: s.Alerts, Digest: s.Digest,
	})
	return s, nil
}

// newAlerts makes the alert service over st, judging monitoring's
// endpoints and sending through n.
func newAlerts(st inventory.Store, set *settings.Service, n alert.Notifier, cfg Config) *alert.Service {
	return alert.New(st, alert.Options{Settings: set, Notifier: n, Endpoints: st, Now: cfg.Now, Log: cfg.Log})
}

// wakeAlerts asks for an alert evaluation, unless one is asked already.
func (s *Stack) wakeAlerts(context.Context) {
	select {
	case s.alertsWake <- struct{}{}:
	default:
	}
}

// newAuthority makes the CA service of cfg over st.
func newAuthority(st inventory.Store, sealer *keys.Sealer, cfg Config) *ca.Authority {
	return ca.New(st, sealer, ca.Config{Now: cfg.Now, BaseURL: cfg.ExternalURL, Organization: cfg.Organization})
}

// newOutbound makes the outbound dialer with the stored policy in force.
func newOutbound(ctx context.Context, st inventory.Store, now func() time.Time) (*outbound.Service, error) {
	svc := outbound.NewService(st, outbound.NewDialer(nil), now)
	if err := svc.Load(ctx); err != nil {
		return nil, err
	}
	return svc, nil
}

// DefaultCAChainPEM returns the default CA's certificate and its issuers
// up to the root, in PEM: what a browser or system is told to trust.
func (s *Stack) DefaultCAChainPEM(ctx context.Context) ([]byte, error) {
	c, err := s.Store.DefaultCA(ctx)
	if err != nil {
		return nil, err
	}
	chain, err := s.Authority.Chain(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, cert := range chain {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})...)
	}
	return out, nil
}

// UI returns the web interface over the stack. initialPasswordFile is
// deleted once the first admin chose their own password ("" for none).
func (s *Stack) UI(initialPasswordFile string, log *slog.Logger) (*web.UI, error) {
	return web.New(web.Deps{Users: s.Users, API: s.API.Handler(), CACertificate: s.DefaultCAChainPEM,
		InitialPasswordFile: initialPasswordFile, Now: s.now, Log: log})
}

// LocalAdmin returns a RoundTripper that hands requests straight to the
// stack's API in this process, acting as the local administrator under
// the audit name actor (e.g. "cli:alice"): the local command line's
// client goes through it, so that it runs the same checks as a network
// client.
func (s *Stack) LocalAdmin(actor string) http.RoundTripper {
	return localAdmin{next: api.Transport(s.API.Handler()), actor: actor}
}

// localAdmin makes every request act as the local administrator.
type localAdmin struct {
	next  http.RoundTripper
	actor string
}

func (t localAdmin) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.next.RoundTrip(r.WithContext(api.WithLocalAdmin(r.Context(), t.actor)))
}
