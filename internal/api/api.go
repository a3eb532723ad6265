// Package api is certkeeper's REST API under /api/v1: a thin layer that
// decodes requests, calls the domain services and encodes their results as
// the wire types of the public client package.
//
// One route table (routes.go) drives the ServeMux registration, the role
// each route needs and the OpenAPI 3.1 document served at
// /api/openapi.json. Requests authenticate with "Authorization: Bearer
// ck_..." API tokens; a trusted in-process caller may instead put the
// user in the request context with WithUser. Audit events name the actor
// "user:USERNAME", however the user authenticated. Errors are RFC 9457
// problem documents (problem.go).
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/internal/access"
	"github.com/certkeeper/certkeeper/internal/acquisition"
	"github.com/certkeeper/certkeeper/internal/agent"
	"github.com/certkeeper/certkeeper/internal/alert"
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
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/mail"
	"github.com/certkeeper/certkeeper/internal/monitor"
	"github.com/certkeeper/certkeeper/internal/notify"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/revocation"
	"github.com/certkeeper/certkeeper/internal/settings"
	"github.com/certkeeper/certkeeper/internal/truststore"
	"github.com/certkeeper/certkeeper/internal/users"
)

// Deps are the services the API calls. Every field but Now and Log is
// required.
type Deps struct {
	Authority    *ca.Authority
	Users        *users.Service
	Definitions  *definitions.Service
	Catalogue    *catalogue.Service
	Acquisitions *acquisition.Service
	Revocation   *revocation.Service
	Settings     *settings.Service
	Mail         *mail.Service
	// Notify keeps the notification channels and their record.
	Notify *notify.Service
	// Certificates reads the stored certificates, Keys the stored keys
	// and Audit the audit trail.
	Certificates *certificates.Service
	Keys         *keys.Service
	Audit        *audit.Trail
	// Importer takes uploads, Export writes private key files and
	// Dashboard computes the overview.
	Importer  *importer.Importer
	Export    *export.Service
	Dashboard *dashboard.Service
	// Deploy runs targets and deployment processes; Agents enrolls and
	// lists deployment agents.
	Deploy *deploy.Service
	Agents *agent.Registry
	// Monitor keeps the monitored endpoints and checks them.
	Monitor *monitor.Service
	// Trust is the trust store: the roots uploads and deploy checks
	// trust. nil leaves its routes unusable.
	Trust *truststore.Service
	// Outbound keeps the outbound policy.
	Outbound *outbound.Service
	// Alerts keeps alerts, their rules and their routing.
	Alerts *alert.Service
	// Digest makes the daily digest and sends it on request.
	Digest *digest.Service
	// Jobs is the process's scheduler; nil leaves the job routes
	// answering 503.
	Jobs Jobs
	// Access is the IP allow-list that admins edit through the API, and
	// Proxies the trusted proxies used to tell the caller's address.
	Access  *access.List
	Proxies access.Proxies
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives errors answered with 500; nil discards them.
	Log *slog.Logger
}

// API serves the REST API. It is safe for concurrent use.
type API struct {
	Deps
	routes []route
	mux    *http.ServeMux
}

// New returns the API over d.
func New(d Deps) *API {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	a := &API{Deps: d, mux: http.NewServeMux()}
	a.routes = a.table()
	for _, rt := range a.routes {
		a.mux.Handle(rt.method+" "+rt.pattern, a.wrap(rt))
	}
	a.mux.HandleFunc("GET /api/openapi.json", a.serveOpenAPI)
	a.mux.HandleFunc("/api/", a.notFound)
	return a
}

// Handler returns the handler of /api/v1/... and /api/openapi.json.
func (a *API) Handler() http.Handler { return a.mux }

// now is the API's clock in UTC.
func (a *API) now() time.Time { return a.Now().UTC() }
