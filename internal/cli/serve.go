package cli

import (
	"fmt"
	"log/slog"
	"net"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/server"
)

func (a *app) serveCommand() *cobra.Command {
	var (
		listen    string
		logFormat string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the certkeeper service until interrupted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(a.env, logFormat)
			if err != nil {
				return err
			}
			if err := a.open(cmd.Context()); err != nil {
				return err
			}
			log.Info("inventory open", "database", redactDatabase(a.cfg.resolvedDatabase()),
				"master_key_id", a.sealer.KeyID())
			srv := server.New(server.Config{Addr: first(listen, a.env.Getenv("CERTKEEPER_LISTEN"))}, a.store, log)
			return srv.Run(cmd.Context(), func(addr net.Addr) {
				fmt.Fprintf(a.env.Stdout, "certkeeper is serving on http://%s (health: /healthz, /readyz)\n", addr)
			})
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "listen address (env CERTKEEPER_LISTEN; default 127.0.0.1:8080)")
	cmd.Flags().StringVar(&logFormat, "log-format", "text", "log format: text or json")
	return cmd
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
	u, err := parseURL(db)
	if err != nil {
		return "postgres://(unparseable URL)"
	}
	return u.Redacted()
}
