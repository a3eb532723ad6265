package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/stack/stacktest"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// newSiteWith is newSite with the stack's configuration changed by
// configure, which also gets the inventory (to build an access.List on
// it, say). When the configuration has an IP allow-list, the site's
// handler goes through its Guard, as "certkeeper serve" does.
func newSiteWith(t *testing.T, configure func(cfg *stack.Config, st inventory.Store)) *site {
	t.Helper()
	ctx := context.Background()
	st := stacktest.OpenSQLite(t)
	s := &site{t: t, log: &lockedWriter{w: &bytes.Buffer{}}}
	log := slog.New(slog.NewTextHandler(s.log, nil))
	cfg := stack.Config{Log: log}
	if configure != nil {
		configure(&cfg, st)
	}
	s.stack = stacktest.New(t, st, cfg)
	if _, _, err := s.stack.Authority.EnsureDefault(ctx); err != nil {
		t.Fatal(err)
	}
	// As serve does: the new CA joins the issuer catalogue.
	if err := s.stack.Catalogue.SyncBuiltin(ctx); err != nil {
		t.Fatal(err)
	}
	for name, role := range map[string]inventory.Role{"ada": inventory.RoleAdmin, "bob": inventory.RoleUser} {
		if _, err := s.stack.Users.Create(ctx, "test", name, role, "correct horse battery "+name); err != nil {
			t.Fatal(err)
		}
	}
	ui, err := s.stack.UI("", log)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", s.stack.API.Handler())
	mux.Handle("/", ui.Handler())
	var h http.Handler = mux
	if cfg.Access != nil {
		h = cfg.Access.Guard(cfg.Proxies, mux)
	}
	s.srv = httptest.NewTLSServer(h)
	t.Cleanup(s.srv.Close)
	return s
}

// admSMTP is the shared test SMTP server (testenv.SMTPServer) offering
// STARTTLS with a certificate that Roots trust; it keeps what it
// receives.
type admSMTP struct{ *testenv.SMTPServer }

func newAdmSMTP(t *testing.T) admSMTP {
	t.Helper()
	return admSMTP{testenv.NewSMTPServer(t, testenv.SMTPOptions{Security: "starttls"})}
}

func (s admSMTP) messages() []testenv.SMTPMessage { return s.Messages() }
