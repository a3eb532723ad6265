package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
)

// Inventory is an inventory to open with its master key, once: the local
// command line opens its inventory through one. The zero value names
// none; fill in Database and MasterKeyFile.
type Inventory struct {
	// Database is a PostgreSQL URL or a SQLite file.
	Database string
	// MasterKeyFile is the master key file.
	MasterKeyFile string
	// MasterKey, when not empty, is the master key itself (base64),
	// used instead of MasterKeyFile.
	MasterKey string
	// Create lets Open create the database, its directory (mode 0700)
	// and, for an inventory holding nothing sealed, the master key.
	// Without it Open creates nothing.
	Create bool
	// Log, when set, is told which inventory Open opened.
	Log *slog.Logger

	st     inventory.Store
	sealer *keys.Sealer
}

// OpenProblem is why an inventory did not open (see OpenError).
type OpenProblem int

// The reasons of an OpenError.
const (
	// BadLocation: Database is neither a PostgreSQL URL nor a SQLite
	// file certkeeper can use.
	BadLocation OpenProblem = iota + 1
	// NoInventory: there is no inventory at Database and Create is not
	// set.
	NoInventory
	// NoMasterKey: the master key is missing but the inventory holds
	// sealed keys.
	NoMasterKey
	// WrongMasterKey: the master key does not open the inventory's
	// sealed keys.
	WrongMasterKey
)

// OpenError is an inventory that could not be opened for a reason the
// operator can fix. Its text is Err's.
type OpenError struct {
	Problem OpenProblem
	Err     error
}

func (e *OpenError) Error() string { return e.Err.Error() }

func (e *OpenError) Unwrap() error { return e.Err }

// Open opens the inventory and unlocks it with the master key the first
// time it is called, and returns the same store and sealer afterwards.
// The store stays open until Close. A reason the operator can fix is an
// *OpenError.
func (inv *Inventory) Open(ctx context.Context) (inventory.Store, *keys.Sealer, error) {
	if inv.st != nil {
		return inv.st, inv.sealer, nil
	}
	st, err := inv.openStore(ctx)
	if err != nil {
		return nil, nil, err
	}
	samples, err := st.SealedSamples(ctx)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	sealer, err := keys.Unlock(inv.MasterKeyFile, inv.MasterKey, samples, inv.Create)
	if err != nil {
		st.Close()
		return nil, nil, unlockError(err)
	}
	inv.st, inv.sealer = st, sealer
	if inv.Log != nil {
		inv.Log.Info("inventory open", "database", RedactDatabase(inv.Database), "master_key_id", sealer.KeyID())
	}
	return st, sealer, nil
}

// openStore opens the database, creating it only when Create is set.
func (inv *Inventory) openStore(ctx context.Context) (inventory.Store, error) {
	if err := store.CheckLocation(inv.Database); err != nil {
		return nil, &OpenError{Problem: BadLocation, Err: err}
	}
	if !inv.Create {
		st, err := store.OpenExisting(ctx, inv.Database)
		if errors.Is(err, store.ErrNoInventory) {
			return nil, &OpenError{Problem: NoInventory, Err: err}
		}
		return st, err
	}
	if !isPostgres(inv.Database) {
		if err := os.MkdirAll(filepath.Dir(inv.Database), 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	return store.Open(ctx, inv.Database)
}

// unlockError tells a missing or wrong master key from other failures.
func unlockError(err error) error {
	switch {
	case errors.Is(err, keys.ErrNoMasterKey):
		return &OpenError{Problem: NoMasterKey, Err: err}
	case errors.Is(err, keys.ErrWrongMasterKey):
		return &OpenError{Problem: WrongMasterKey, Err: err}
	}
	return err
}

// Close closes the store Open opened, if any.
func (inv *Inventory) Close() {
	if inv.st != nil {
		inv.st.Close()
	}
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// RedactDatabase hides a password in a PostgreSQL URL, for logs and
// messages.
func RedactDatabase(db string) string {
	if !isPostgres(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://(unparseable URL)"
	}
	return u.Redacted()
}
