package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// onEmptyDatabases runs test on a fresh SQLite file and a fresh
// PostgreSQL database with no migration applied, for tests of what a
// migration does to rows written under an earlier schema.
func onEmptyDatabases(t *testing.T, test func(t *testing.T, d *db)) {
	for _, b := range []struct {
		name    string
		dialect dialect
		pool    func(t *testing.T) *sql.DB
	}{
		{"sqlite", sqliteDialect, func(t *testing.T) *sql.DB {
			p, err := openSQLitePool(filepath.Join(t.TempDir(), "old.db"), true, 1)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{"postgres", postgresDialect, func(t *testing.T) *sql.DB {
			p, err := sql.Open("pgx", testenv.PostgresDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
	} {
		t.Run(b.name, func(t *testing.T) {
			pool := b.pool(t)
			d := newDB(pool, pool, b.dialect)
			t.Cleanup(func() { d.Close() })
			test(t, d)
		})
	}
}

// migrateBefore applies the migrations numbered below version and returns
// them all, for the test to apply the rest.
func migrateBefore(t *testing.T, d *db, version int64) []migration {
	t.Helper()
	all, err := migrations(d.dialect)
	if err != nil {
		t.Fatal(err)
	}
	var before []migration
	for _, m := range all {
		if m.version < version {
			before = append(before, m)
		}
	}
	if err := d.apply(context.Background(), before); err != nil {
		t.Fatal(err)
	}
	return all
}
