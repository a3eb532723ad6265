package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// ListJobRuns implements inventory.JobStore.
func (s *db) ListJobRuns(ctx context.Context, kind string, limit int) ([]inventory.JobRunRecord, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT kind, slot, owner, started_at, finished_at, result, error,
		duration_ms FROM job_runs WHERE kind = ? ORDER BY slot DESC LIMIT ?`), kind, limit)
	if err != nil {
		return nil, wrap("list job runs", err)
	}
	defer rows.Close()
	var out []inventory.JobRunRecord
	for rows.Next() {
		var r inventory.JobRunRecord
		var ms int64
		if err := rows.Scan(&r.Kind, timeCol{&r.Slot}, &r.Owner, timeCol{&r.Started}, timeCol{&r.Finished},
			&r.Result, &r.Error, &ms); err != nil {
			return nil, wrap("list job runs", err)
		}
		r.Duration = time.Duration(ms) * time.Millisecond
		out = append(out, r)
	}
	return out, wrapIf("list job runs", rows.Err())
}

// ClaimLeadership implements inventory.JobStore: one upsert of the single
// leader row, which changes it only when owner leads already or the lease
// ran out.
func (s *db) ClaimLeadership(ctx context.Context, owner string, now, leaseUntil time.Time) (inventory.Leader, error) {
	var l inventory.Leader
	err := s.jobTx(ctx, "claim leadership", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO scheduler_leader (id, owner, since, lease_until) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET lease_until = excluded.lease_until,
			since = CASE WHEN scheduler_leader.owner = excluded.owner THEN scheduler_leader.since ELSE excluded.since END,
			owner = excluded.owner
			WHERE scheduler_leader.owner = excluded.owner OR scheduler_leader.lease_until <= excluded.since`),
			owner, s.t(now), s.t(leaseUntil))
		if err != nil {
			return err
		}
		l, err = s.scanLeader(tx.QueryRowContext(ctx, leaderSelect))
		return err
	})
	return l, err
}

// ResignLeadership implements inventory.JobStore.
func (s *db) ResignLeadership(ctx context.Context, owner string) error {
	return s.jobTx(ctx, "resign leadership", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`UPDATE scheduler_leader SET lease_until = since WHERE owner = ?`), owner)
		return err
	})
}

// JobLeader implements inventory.JobStore.
func (s *db) JobLeader(ctx context.Context) (inventory.Leader, error) {
	l, err := s.scanLeader(s.r.QueryRowContext(ctx, leaderSelect))
	if errors.Is(err, sql.ErrNoRows) {
		return l, inventory.ErrNotFound
	}
	return l, wrapIf("job leader", err)
}

const leaderSelect = `SELECT owner, since, lease_until FROM scheduler_leader WHERE id = 1`

func (s *db) scanLeader(row *sql.Row) (inventory.Leader, error) {
	var l inventory.Leader
	err := row.Scan(&l.Owner, timeCol{&l.Since}, timeCol{&l.LeaseUntil})
	return l, err
}
