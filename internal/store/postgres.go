package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Postgres is the shared store for several certkeeper instances. It is
// safe for concurrent use; instances migrate one after another under an
// advisory lock.
type Postgres struct {
	*db
}

var _ inventory.Store = (*Postgres)(nil)

// postgresConns caps the connections one instance opens.
const postgresConns = 16

// OpenPostgres connects to the PostgreSQL database named by dsn (a
// "postgres://" URL or a key=value connection string) and migrates it.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	pool.SetMaxOpenConns(postgresConns)
	pool.SetMaxIdleConns(postgresConns)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect postgres: %w", err)
	}
	s := &Postgres{db: newDB(pool, pool, postgresDialect)}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}
