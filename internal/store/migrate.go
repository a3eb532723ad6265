package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migrationLockID is the PostgreSQL advisory lock key that serialises
// migrations between instances ("certkeep" in ASCII).
const migrationLockID = 0x636572746b656570

// migration is one numbered schema change.
type migration struct {
	version int64
	name    string
	sql     string
}

// migrations returns the dialect's migrations in version order. Files are
// named NNNN_description.sql.
func migrations(d dialect) ([]migration, error) {
	dir := "migrations/sqlite"
	if d == postgresDialect {
		dir = "migrations/postgres"
	}
	names, err := fs.Glob(migrationFS, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]migration, 0, len(names))
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number", base)
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// migrate applies every pending migration, each in its own transaction
// together with its schema_migrations row, so a failure leaves the schema
// at the last complete version. On PostgreSQL each transaction holds an
// advisory lock so instances starting together take turns.
func (s *db) migrate(ctx context.Context) error {
	all, err := migrations(s.dialect)
	if err != nil {
		return wrap("migrate", err)
	}
	return s.apply(ctx, all)
}

// apply runs the migrations in list order, each in its own transaction.
func (s *db) apply(ctx context.Context, all []migration) error {
	for _, m := range all {
		if err := s.withTx(ctx, func(tx *sql.Tx) error { return s.applyMigration(ctx, tx, m) }); err != nil {
			return err
		}
	}
	return nil
}

// applyMigration runs m in tx unless it was applied already.
func (s *db) applyMigration(ctx context.Context, tx *sql.Tx, m migration) error {
	if s.dialect == postgresDialect {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLockID)); err != nil {
			return wrap("migrate: lock", err)
		}
	}
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return wrap("migrate: schema_migrations", err)
	}
	var n int
	err := tx.QueryRowContext(ctx, s.q("SELECT count(*) FROM schema_migrations WHERE version = ?"), m.version).Scan(&n)
	if err != nil {
		return wrap("migrate: read version", err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return wrap("migrate "+m.name, err)
	}
	_, err = tx.ExecContext(ctx, s.q("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
		m.version, m.name, s.now().Unix())
	if err != nil {
		return wrap("migrate: record "+m.name, err)
	}
	return nil
}
