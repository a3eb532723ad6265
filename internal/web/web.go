// Package web is certkeeper's browser interface: server-rendered pages
// (html/template) with htmx for partial updates, all served from the
// binary.
//
// The UI owns sign-in, sessions and anti-forgery checks; for everything
// else it is a client of the REST API, called in process with the signed-in
// user in the request context. The API's route table therefore decides
// what each role may do, for the UI as for every other client; the UI's
// own page table (routes.go) only hides pages a role could not use.
package web

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/api"
	"github.com/certkeeper/certkeeper/internal/users"
)

// Deps are what the UI needs. Users and API are required.
type Deps struct {
	Users *users.Service
	// API is the REST API handler; the UI calls it in process.
	API http.Handler
	// CACertificate returns the default CA's chain in PEM, offered on the
	// sign-in page so that browsers can be told to trust it; nil offers
	// nothing.
	CACertificate func(ctx context.Context) ([]byte, error)
	// InitialPasswordFile is deleted when its user first changes the
	// generated password ("" for none).
	InitialPasswordFile string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives errors answered with 500; nil discards them.
	Log *slog.Logger
}

// UI serves the web interface. It is safe for concurrent use.
type UI struct {
	Deps
	api     *client.Client
	pages   map[string]*template.Template
	mux     *http.ServeMux
	limiter limiter
}

// New returns the UI over d.
func New(d Deps) (*UI, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	c, err := client.New("http://certkeeper.invalid", "", client.WithUserAgent("certkeeper-web"),
		client.WithHTTPClient(&http.Client{Transport: api.Transport(d.API)}))
	if err != nil {
		return nil, err
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	ui := &UI{Deps: d, api: c, pages: pages, mux: http.NewServeMux()}
	ui.register()
	return ui, nil
}

// Handler returns the UI's root handler, with the security headers and
// the cross-origin check on every response.
func (ui *UI) Handler() http.Handler {
	return securityHeaders(crossOrigin(ui.mux))
}
