// Package store implements inventory.Store on SQLite (the embedded default)
// and PostgreSQL (for several instances sharing the work).
//
// Both backends share one implementation: queries are written once with
// "?" placeholders and rebound to "$n" for PostgreSQL. The schema lives in
// numbered migrations embedded per dialect (migrations/sqlite,
// migrations/postgres) and is brought up to date by Open.
//
// Times are stored in UTC with whole seconds: INTEGER unix seconds on
// SQLite, TIMESTAMPTZ on PostgreSQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Open opens the database named by database and brings its schema up to
// date. A "postgres://" or "postgresql://" URL opens PostgreSQL; another
// URL scheme is ErrUnsupported (see CheckLocation); anything else is a
// SQLite file path, created (mode 0600) when it does not exist.
func Open(ctx context.Context, database string) (inventory.Store, error) {
	if err := CheckLocation(database); err != nil {
		return nil, err
	}
	if isPostgresURL(database) {
		return OpenPostgres(ctx, database)
	}
	return OpenSQLite(ctx, database)
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

// executor runs statements: a pool, or one transaction.
type executor interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// db is the implementation shared by SQLite and Postgres.
type db struct {
	// wdb runs writes and transactions; rdb runs reads. They are the same
	// pool on PostgreSQL. On SQLite wdb holds one connection so that
	// writers queue in Go instead of spinning on the file lock.
	wdb, rdb *sql.DB
	// w and r are what queries run on: the pools, or, in a store bound
	// to a transaction by InTx, both that transaction.
	w, r executor
	// tx is the transaction the store is bound to (see InTx); nil on the
	// pools.
	tx      *sql.Tx
	dialect dialect
	// now is the clock for created_at and audit times.
	now func() time.Time
	// stmts caches statements of the issuance hot path, prepared once on
	// the writer pool (see stmt); a store bound to a transaction shares
	// its parent's cache and binds the statements to its transaction.
	stmts *stmtCache
}

func newDB(w, r *sql.DB, d dialect) *db {
	return &db{wdb: w, rdb: r, w: w, r: r, dialect: d, now: time.Now, stmts: &stmtCache{}}
}

// Close closes the database pools. On a store bound to a transaction
// (InTx) it does nothing.
func (s *db) Close() error {
	if s.tx != nil {
		return nil
	}
	s.stmts.mu.Lock()
	for _, st := range s.stmts.m {
		st.Close()
	}
	s.stmts.m = nil
	s.stmts.mu.Unlock()
	err := s.wdb.Close()
	if s.rdb != s.wdb {
		if rerr := s.rdb.Close(); err == nil {
			err = rerr
		}
	}
	if err != nil {
		return wrap("close", err)
	}
	return nil
}

// q rebinds a query written with "?" placeholders for the dialect. The
// queries in this package never contain "?" inside string literals.
func (s *db) q(query string) string {
	if s.dialect != postgresDialect {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// t converts a time to the dialect's column value: unix seconds on SQLite,
// a UTC time truncated to seconds on PostgreSQL.
func (s *db) t(v time.Time) any {
	v = v.UTC().Truncate(time.Second)
	if s.dialect == sqliteDialect {
		return v.Unix()
	}
	return v
}

// nullT is t for optional times: nil stays NULL.
func (s *db) nullT(v *time.Time) any {
	if v == nil {
		return nil
	}
	return s.t(*v)
}

// stamp returns v, or the current time when v is zero, in stored form.
func (s *db) stamp(v time.Time) time.Time {
	if v.IsZero() {
		v = s.now()
	}
	return v.UTC().Truncate(time.Second)
}

// txAttempts is how often a transaction is tried when PostgreSQL aborts
// it with a serialization failure or a deadlock.
const txAttempts = 5

// withTx runs fn in a write transaction and commits it, or rolls it back
// when fn fails. When PostgreSQL aborts the transaction with a
// serialization failure (40001) or a deadlock (40P01), as it may when
// several instances share the inventory, the whole transaction is tried
// again, up to txAttempts times: fn must change nothing outside it. In a
// store bound to a transaction (InTx) fn runs in that transaction, under
// a savepoint, so that a failed fn still leaves nothing of itself and the
// transaction stays usable; the outermost transaction is the one retried.
func (s *db) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.tx != nil {
		return s.savepoint(ctx, fn)
	}
	var err error
	for range txAttempts {
		if err = s.oneTx(ctx, fn); !isRetryable(err) || ctx.Err() != nil {
			break
		}
	}
	return err
}

// oneTx is one try of withTx.
func (s *db) oneTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return wrap("begin", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return wrap("commit", err)
	}
	return nil
}

// savepoint runs fn in s.tx under a savepoint, rolled back to when fn
// fails. Savepoints nest, so the one name serves every level.
func (s *db) savepoint(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if _, err := s.tx.ExecContext(ctx, "SAVEPOINT store_op"); err != nil {
		return wrap("savepoint", err)
	}
	if err := fn(s.tx); err != nil {
		if _, rerr := s.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT store_op"); rerr != nil {
			return errors.Join(err, wrap("rollback to savepoint", rerr))
		}
		return err
	}
	if _, err := s.tx.ExecContext(ctx, "RELEASE SAVEPOINT store_op"); err != nil {
		return wrap("release savepoint", err)
	}
	return nil
}

// InTx runs fn with a store bound to one transaction, and commits it when
// fn returns nil or rolls it back when fn fails (see inventory.Store).
func (s *db) InTx(ctx context.Context, fn func(tx inventory.Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	// Prepared before the transaction takes the SQLite writer's only
	// connection; the bound store binds them to its transaction.
	if err := s.prepareHot(ctx); err != nil {
		return err
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		bound := *s
		bound.w, bound.r, bound.tx = tx, tx, tx
		return fn(&bound)
	})
}

// nullID maps the zero ID to NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// joinList stores a string list as newline-joined text.
func joinList(l []string) string { return strings.Join(l, "\n") }

// splitList is the inverse of joinList; empty text is a nil list.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// limit applies the inventory page-size rules.
func limit(p inventory.Page) int {
	switch {
	case p.Limit <= 0:
		return inventory.DefaultPageSize
	case p.Limit > inventory.MaxPageSize:
		return inventory.MaxPageSize
	}
	return p.Limit
}
