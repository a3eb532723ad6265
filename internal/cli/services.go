package cli

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/certkeeper/certkeeper/internal/revocation"
	"github.com/certkeeper/certkeeper/internal/stack"
)

// stack opens the inventory (see inventory) and builds its services once, for
// every local command and for the in-process API the client uses without
// --server. The base URL written into issued certificates is the
// --external-url setting (none when unset), the organisation of new CAs
// comes from CERTKEEPER_ORGANIZATION and the CRL settings from the
// variables "certkeeper serve" reads.
func (a *app) stack(ctx context.Context) (*stack.Stack, error) {
	if a.services != nil {
		return a.services, nil
	}
	cfg, err := a.stackConfig()
	if err != nil {
		return nil, err
	}
	st, sealer, err := a.inventory().Open(ctx)
	if err != nil {
		return nil, a.openError(err)
	}
	s, err := stack.New(ctx, st, sealer, cfg)
	if err != nil {
		return nil, err
	}
	a.services = s
	return s, nil
}

// stackConfig is the services' configuration for the command line: the
// settings above, the process's clock, warnings to standard error and the
// data directory's agent certificates.
func (a *app) stackConfig() (stack.Config, error) {
	external, err := a.cfg.resolvedExternalURL()
	if err != nil {
		return stack.Config{}, err
	}
	validity, refresh, err := crlSettings(a.env.Getenv, 0, 0)
	if err != nil {
		return stack.Config{}, err
	}
	return stack.Config{
		ExternalURL: external, Organization: a.env.Getenv("CERTKEEPER_ORGANIZATION"),
		Revocation:   revocation.Config{CRLValidity: validity, CRLRefresh: refresh},
		Now:          a.env.Now,
		Log:          slog.New(slog.NewTextHandler(a.env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		AgentCertDir: filepath.Join(a.cfg.resolvedDataDir(), "certs", "agent"),
	}, nil
}
