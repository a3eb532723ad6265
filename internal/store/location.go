package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// ErrNoInventory means OpenExisting found no inventory where it was told
// to look.
var ErrNoInventory = errors.New("store: no inventory")

// ErrUnsupported means a database location names a kind of database
// certkeeper does not speak (mysql://, sqlite3:// ...).
var ErrUnsupported = errors.New("store: unsupported database")

// schemeRE matches a URL scheme of two characters or more ("mysql:",
// "file:"), so that a drive letter ("C:") is still a path. Write ./name:x
// for a SQLite file whose name has a colon.
var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]+:`)

// CheckLocation refuses a database location that is neither a PostgreSQL
// URL ("postgres://" or "postgresql://") nor a SQLite file path. The error
// names the scheme only, never the rest (a URL may hold a password).
func CheckLocation(database string) error {
	if database == "" {
		return fmt.Errorf("%w: the database location is empty", ErrUnsupported)
	}
	if isPostgresURL(database) {
		return nil
	}
	if m := schemeRE.FindString(database); m != "" {
		return fmt.Errorf("%w %q: give a SQLite file path or a postgres:// URL", ErrUnsupported, m)
	}
	return nil
}

// OpenExisting opens an inventory that must already exist, and creates
// nothing: a SQLite file that is not there, or whose directory is not
// there, is ErrNoInventory naming the path. A PostgreSQL database is the
// server's, so it is opened (and migrated) as Open does.
func OpenExisting(ctx context.Context, database string) (inventory.Store, error) {
	if err := CheckLocation(database); err != nil {
		return nil, err
	}
	if isPostgresURL(database) {
		return OpenPostgres(ctx, database)
	}
	if err := sqliteExists(database); err != nil {
		return nil, err
	}
	return OpenSQLite(ctx, database)
}

// sqliteExists says why there is no SQLite inventory at path, or nil.
func sqliteExists(path string) error {
	_, err := os.Stat(path)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: sqlite file: %w", err)
	}
	dir := filepath.Dir(path)
	if _, derr := os.Stat(dir); errors.Is(derr, fs.ErrNotExist) {
		return fmt.Errorf("%w at %s: its directory %s does not exist", ErrNoInventory, path, dir)
	}
	return fmt.Errorf("%w at %s: the file does not exist", ErrNoInventory, path)
}
