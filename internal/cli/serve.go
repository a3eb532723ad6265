package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/acquisition"
	"github.com/certkeeper/certkeeper/internal/api"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/definitions"
	"github.com/certkeeper/certkeeper/internal/revocation"
	"github.com/certkeeper/certkeeper/internal/server"
	"github.com/certkeeper/certkeeper/internal/users"
)

// serveOptions are the flags of "certkeeper serve".
type serveOptions struct {
	listen      string
	logFormat   string
	crlValidity time.Duration
	crlRefresh  time.Duration
}

func (a *app) serveCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the certkeeper service until interrupted",
		Long: "serve runs certkeeper's plain-HTTP listener: health endpoints, the REST API (/api/v1/,\n" +
			"described at /api/openapi.json; API tokens from \"certkeeper token create\"), and the publication\n" +
			"of every CA's certificate (/pki/ca/ID.crt|.pem), CRL (/pki/crl/ID.crl|.pem) and OCSP\n" +
			"responder (/pki/ocsp/ID). On first start it creates the default CA (root and issuing\n" +
			"intermediate). CRLs are refreshed on a schedule and at once on revocation.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runServe(cmd.Context(), &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "", "listen address (env CERTKEEPER_LISTEN; default 127.0.0.1:8080)")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.DurationVar(&o.crlValidity, "crl-validity", 0, "time from a CRL's thisUpdate to its nextUpdate (env CERTKEEPER_CRL_VALIDITY; default 24h)")
	f.DurationVar(&o.crlRefresh, "crl-refresh", 0, "age at which a CRL is replaced (env CERTKEEPER_CRL_REFRESH; default half of the validity)")
	return cmd
}

func (a *app) runServe(ctx context.Context, o *serveOptions) error {
	log, err := newLogger(a.env, o.logFormat)
	if err != nil {
		return err
	}
	external, err := a.cfg.resolvedExternalURL()
	if err != nil {
		return err
	}
	auth, err := a.authority(ctx)
	if err != nil {
		return err
	}
	log.Info("inventory open", "database", redactDatabase(a.cfg.resolvedDatabase()),
		"master_key_id", a.sealer.KeyID())
	if err := ensureCA(ctx, auth, log, external); err != nil {
		return err
	}
	validity, refresh, err := crlSettings(a.env.Getenv, o.crlValidity, o.crlRefresh)
	if err != nil {
		return err
	}
	svc, err := revocation.New(a.store, auth, a.sealer, revocation.Config{
		CRLValidity: validity, CRLRefresh: refresh, Now: a.env.Now,
	}, log)
	if err != nil {
		return err
	}
	apiHandler, err := a.apiHandler(ctx, auth, log)
	if err != nil {
		return err
	}
	srv := server.New(server.Config{
		Addr: first(o.listen, a.env.Getenv("CERTKEEPER_LISTEN")),
		PKI:  &server.PKIHandlers{CACert: svc.CACertHandler(), CRL: svc.CRLHandler(), OCSP: svc.OCSPHandler()},
		API:  apiHandler,
	}, a.store, log)
	return a.serveUntilDone(ctx, srv, revocation.NewRefresher(svc, nil, log))
}

// apiHandler builds the REST API over the open inventory, with the
// built-in CAs listed in the catalogue.
func (a *app) apiHandler(ctx context.Context, auth *ca.Authority, log *slog.Logger) (http.Handler, error) {
	cat, err := a.catalogue(ctx)
	if err != nil {
		return nil, err
	}
	return api.New(api.Deps{
		Store:        a.store,
		Sealer:       a.sealer,
		Authority:    auth,
		Users:        users.New(a.store, a.env.Now, nil),
		Definitions:  definitions.New(a.store, a.env.Now),
		Catalogue:    cat,
		Acquisitions: acquisition.New(a.store, auth, a.sealer, acquisition.Config{Now: a.env.Now}),
		Now:          a.env.Now,
		Log:          log,
	}).Handler(), nil
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

// serveUntilDone runs the listener and the CRL refresher until ctx is
// cancelled (or the listener fails), then stops both.
func (a *app) serveUntilDone(ctx context.Context, srv *server.Server, ref *revocation.Refresher) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ref.Run(ctx) }()
	err := srv.Run(ctx, func(addr net.Addr) {
		fmt.Fprintf(a.env.Stdout, "certkeeper is serving on http://%s (health: /healthz, /readyz; CA publication: /pki/; API: /api/v1/)\n", addr)
	})
	cancel()
	if rerr := <-done; err == nil {
		err = rerr
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
