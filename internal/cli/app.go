package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
)

// app carries the configuration and the inventory, opened on first use so
// that commands which need no inventory (inspect, convert) create nothing.
type app struct {
	env    Env
	cfg    config
	store  inventory.Store
	sealer *keys.Sealer
	api    *client.Client
}

func newApp(env Env) *app {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	return &app{env: env, cfg: config{getenv: env.Getenv}}
}

// config holds the settings every command shares. Flags win over the
// environment, which wins over defaults.
type config struct {
	getenv        func(string) string
	dataDir       string
	database      string
	masterKeyFile string
	externalURL   string
	remote        remoteFlags
}

func (c *config) bindFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&c.dataDir, "data-dir", "", "data directory (env CERTKEEPER_DATA_DIR; default "+defaultDataDir(c.getenv)+")")
	f.StringVar(&c.database, "database", "", "PostgreSQL URL or SQLite file (env CERTKEEPER_DATABASE; default DATA-DIR/certkeeper.db)")
	f.StringVar(&c.masterKeyFile, "master-key-file", "", "master key file (env CERTKEEPER_MASTER_KEY_FILE; default DATA-DIR/master.key)")
	c.remote.bind(cmd)
	f.StringVar(&c.externalURL, "external-url", "", "URL under which clients reach certkeeper's plain-HTTP listener, written into issued certificates' CRL and OCSP URLs (env CERTKEEPER_EXTERNAL_URL; default none)")
}

// resolvedExternalURL is the checked external URL, or "" when none is set.
func (c *config) resolvedExternalURL() (string, error) {
	return externalURL(first(c.externalURL, c.getenv("CERTKEEPER_EXTERNAL_URL")))
}

func (c *config) resolvedDataDir() string {
	return first(c.dataDir, c.getenv("CERTKEEPER_DATA_DIR"), defaultDataDir(c.getenv))
}

func (c *config) resolvedDatabase() string {
	return first(c.database, c.getenv("CERTKEEPER_DATABASE"), filepath.Join(c.resolvedDataDir(), "certkeeper.db"))
}

func (c *config) resolvedMasterKeyFile() string {
	return first(c.masterKeyFile, c.getenv("CERTKEEPER_MASTER_KEY_FILE"), filepath.Join(c.resolvedDataDir(), "master.key"))
}

// defaultDataDir is /var/lib/certkeeper for root and the XDG data
// directory for anyone else.
func defaultDataDir(getenv func(string) string) string {
	if os.Geteuid() == 0 {
		return "/var/lib/certkeeper"
	}
	if x := getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "certkeeper")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "certkeeper")
	}
	return "certkeeper-data"
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// open opens the inventory and the master key, creating the data directory
// (mode 0700) on first use.
func (a *app) open(ctx context.Context) error {
	if a.store != nil {
		return nil
	}
	db := a.cfg.resolvedDatabase()
	if !isPostgres(db) {
		if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
	}
	sealer, err := keys.LoadSealer(a.cfg.resolvedMasterKeyFile(), a.env.Getenv("CERTKEEPER_MASTER_KEY"))
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	a.store, a.sealer = st, sealer
	return nil
}

func (a *app) close() {
	if a.store != nil {
		a.store.Close()
	}
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// actor names who acts in the audit trail when the command line is used.
func (a *app) actor() string {
	u := a.env.Getenv("USER")
	if u == "" {
		u = fmt.Sprintf("uid %d", os.Getuid())
	}
	return "cli:" + u
}
