package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/stack"
)

// app carries the configuration and the inventory, opened on first use so
// that commands which need no inventory (inspect, convert) create nothing.
type app struct {
	env Env
	cfg config
	// inv is the inventory, made on first use (see inventory) and opened
	// on first use (see stack).
	inv *stack.Inventory
	// services are built over the inventory on first use (see stack).
	services *stack.Stack
	api      *client.Client
	// creating is set for a command that may start a new inventory (see
	// inventoryCreators).
	creating bool
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

// inventoryCreators are the commands that may start a new inventory: only
// they create the database, its directory and the master key. Every other
// command needs an inventory to be there already and creates nothing.
var inventoryCreators = map[string]bool{
	"certkeeper import": true, "certkeeper serve": true, "certkeeper outbound set": true,
	"certkeeper ca init": true, "certkeeper ca import": true, "certkeeper ca batch-issue": true,
	"certkeeper kit create": true, "certkeeper definition create": true, "certkeeper user create": true,
	"certkeeper issuer add": true, "certkeeper target add": true, "certkeeper preset add": true,
	"certkeeper notify add": true,
}

// inventory is the inventory the command works on, not yet opened. Only
// an inventory creator (a.creating) may create the database, its
// directory (mode 0700) and, for an inventory holding nothing sealed, the
// master key.
func (a *app) inventory() *stack.Inventory {
	if a.inv == nil {
		a.inv = &stack.Inventory{Database: a.cfg.resolvedDatabase(), MasterKeyFile: a.cfg.resolvedMasterKeyFile(),
			MasterKey: a.env.Getenv("CERTKEEPER_MASTER_KEY"), Create: a.creating}
	}
	return a.inv
}

// openError says in one line which flag, inventory or master key an
// inventory that did not open needs.
func (a *app) openError(err error) error {
	var oe *stack.OpenError
	if !errors.As(err, &oe) {
		return err
	}
	db := stack.RedactDatabase(a.cfg.resolvedDatabase())
	key := "master key " + a.cfg.resolvedMasterKeyFile()
	if a.env.Getenv("CERTKEEPER_MASTER_KEY") != "" {
		key = "CERTKEEPER_MASTER_KEY"
	}
	switch oe.Problem {
	case stack.BadLocation:
		return fmt.Errorf("--database: %w", oe.Err)
	case stack.NoInventory:
		return fmt.Errorf("%w; nothing was stored there yet (check --data-dir or --database)", oe.Err)
	case stack.NoMasterKey:
		return fmt.Errorf("%s is missing but the inventory at %s holds sealed keys: restore the key file or set CERTKEEPER_MASTER_KEY",
			key, db)
	case stack.WrongMasterKey:
		return fmt.Errorf("%s does not open the sealed keys of the inventory at %s: give the master key they were sealed under (--master-key-file or CERTKEEPER_MASTER_KEY)",
			key, db)
	}
	return err
}

func (a *app) close() {
	if a.inv != nil {
		a.inv.Close()
	}
}

// actor names who acts in the audit trail when the command line is used.
func (a *app) actor() string {
	u := a.env.Getenv("USER")
	if u == "" {
		u = fmt.Sprintf("uid %d", os.Getuid())
	}
	return "cli:" + u
}
