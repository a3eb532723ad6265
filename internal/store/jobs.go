package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var _ inventory.JobStore = (*db)(nil)

// EnsureJob implements inventory.JobStore.
func (s *db) EnsureJob(ctx context.Context, kind string, firstRun time.Time) error {
	return s.jobTx(ctx, "ensure job", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO jobs (kind, next_run_at) VALUES (?, ?)
			ON CONFLICT (kind) DO NOTHING`), kind, s.t(firstRun))
		return err
	})
}

// ClaimJob implements inventory.JobStore. The conditional UPDATE is the
// claim: on PostgreSQL a second claimer waits for the row lock and then
// finds the lease taken; on SQLite writers are serialised. A lease that
// ran out unreleased (lease_owner still set) marks an interrupted run: its
// slot is claimed again, and a waiting request stays for after it. The slot's
// history row is opened in the same transaction; when that slot ran
// already, the claim is undone and only a request for it is cleared.
func (s *db) ClaimJob(ctx context.Context, kind, owner string, now, leaseUntil time.Time) (*inventory.Job, error) {
	var job *inventory.Job
	var slot time.Time
	err := s.jobTx(ctx, "claim job", func(tx *sql.Tx) error {
		job = nil
		res, err := tx.ExecContext(ctx, s.q(`UPDATE jobs SET lease_owner = ?, lease_until = ?, last_started_at = ?,
			run_slot = CASE WHEN lease_owner <> '' THEN run_slot WHEN next_run_at <= ? THEN next_run_at
				ELSE requested_at END,
			requested_at = CASE WHEN lease_owner <> '' THEN requested_at ELSE NULL END
			WHERE kind = ? AND (next_run_at <= ? OR requested_at IS NOT NULL OR lease_owner <> '')
			AND (lease_until IS NULL OR lease_until <= ?)`),
			owner, s.t(leaseUntil), s.t(now), s.t(now), kind, s.t(now), s.t(now))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		j, err := s.scanJob(tx.QueryRowContext(ctx, s.q(jobSelect+` WHERE kind = ?`), kind))
		if err != nil {
			return err
		}
		slot = j.RunSlot
		if err := s.openRun(ctx, tx, j, owner, now); err != nil {
			return err
		}
		job = j
		return nil
	})
	if errors.Is(err, errSlotRan) {
		return nil, s.dropRequest(ctx, kind, slot, now)
	}
	return job, err
}

// errSlotRan rolls back a claim whose slot has a finished run.
var errSlotRan = errors.New("slot ran already")

// openRun opens the history row of j's claimed slot, or takes over the
// unfinished one a lost lease left; errSlotRan when it finished.
func (s *db) openRun(ctx context.Context, tx *sql.Tx, j *inventory.Job, owner string, now time.Time) error {
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO job_runs (kind, slot, owner, started_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (kind, slot) DO UPDATE SET owner = excluded.owner, started_at = excluded.started_at
		WHERE job_runs.finished_at IS NULL`), j.Kind, s.t(j.RunSlot), owner, s.t(now))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(err, errSlotRan)
	}
	return nil
}

// dropRequest clears the run-now request for slot, which ran already
// (two requests within one second are one), unless the job is due.
func (s *db) dropRequest(ctx context.Context, kind string, slot, now time.Time) error {
	return s.jobTx(ctx, "claim job", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`UPDATE jobs SET requested_at = NULL
			WHERE kind = ? AND requested_at = ? AND next_run_at > ?`), kind, s.t(slot), s.t(now))
		return err
	})
}

// RenewJob implements inventory.JobStore.
func (s *db) RenewJob(ctx context.Context, kind, owner string, leaseUntil time.Time) error {
	return s.jobTx(ctx, "renew job", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE jobs SET lease_until = ? WHERE kind = ? AND lease_owner = ?`),
			s.t(leaseUntil), kind, owner)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(err, fmt.Errorf("job %s is not held by %s: %w", kind, owner, inventory.ErrConflict))
		}
		return nil
	})
}

// FinishJob implements inventory.JobStore.
func (s *db) FinishJob(ctx context.Context, kind, owner string, run inventory.JobRun) error {
	return s.jobTx(ctx, "finish job", func(tx *sql.Tx) error {
		var slot time.Time
		err := tx.QueryRowContext(ctx, s.q(`SELECT run_slot FROM jobs WHERE kind = ? AND lease_owner = ?`),
			kind, owner).Scan(timeCol{&slot})
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("job %s is not held by %s: %w", kind, owner, inventory.ErrConflict)
		} else if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.q(`UPDATE jobs SET next_run_at = ?, attempts = ?, lease_owner = '',
			lease_until = NULL, last_finished_at = ?, last_result = ?, last_error = ?, last_duration_ms = ?
			WHERE kind = ? AND lease_owner = ?`),
			s.t(run.NextRunAt), run.Attempts, s.t(run.Finished), run.Result, run.Error,
			run.Duration.Milliseconds(), kind, owner)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(err, fmt.Errorf("job %s is not held by %s: %w", kind, owner, inventory.ErrConflict))
		}
		return s.closeRun(ctx, tx, kind, owner, slot, run)
	})
}

// closeRun records run in its slot's history row and prunes the kind's
// history to inventory.JobRunsKept rows.
func (s *db) closeRun(ctx context.Context, tx *sql.Tx, kind, owner string, slot time.Time, run inventory.JobRun) error {
	_, err := tx.ExecContext(ctx, s.q(`UPDATE job_runs SET finished_at = ?, result = ?, error = ?, duration_ms = ?
		WHERE kind = ? AND slot = ? AND owner = ?`),
		s.t(run.Finished), run.Result, run.Error, run.Duration.Milliseconds(), kind, s.t(slot), owner)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.q(`DELETE FROM job_runs WHERE kind = ? AND slot < (SELECT slot FROM job_runs
		WHERE kind = ? ORDER BY slot DESC LIMIT 1 OFFSET ?)`), kind, kind, inventory.JobRunsKept-1)
	return err
}

// RequestJob implements inventory.JobStore. The request's slot is at, or
// the second after the last claimed slot when at is not later (slots are
// whole seconds, and a slot runs once).
func (s *db) RequestJob(ctx context.Context, kind string, at time.Time) error {
	return s.jobTx(ctx, "request job", func(tx *sql.Tx) error {
		var last time.Time
		err := tx.QueryRowContext(ctx, s.q(`SELECT run_slot FROM jobs WHERE kind = ?`), kind).Scan(timeCol{&last})
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("job %s: %w", kind, inventory.ErrNotFound)
		} else if err != nil {
			return err
		}
		if at = at.UTC().Truncate(time.Second); !last.IsZero() && !at.After(last) {
			at = last.Add(time.Second)
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE jobs SET requested_at = ? WHERE kind = ?`), s.t(at), kind)
		return err
	})
}

// ListJobs implements inventory.JobStore.
func (s *db) ListJobs(ctx context.Context) ([]inventory.Job, error) {
	rows, err := s.r.QueryContext(ctx, jobSelect+` ORDER BY kind`)
	if err != nil {
		return nil, wrap("list jobs", err)
	}
	defer rows.Close()
	var out []inventory.Job
	for rows.Next() {
		j, err := s.scanJob(rows)
		if err != nil {
			return nil, wrap("list jobs", err)
		}
		out = append(out, *j)
	}
	return out, wrapIf("list jobs", rows.Err())
}

const jobSelect = `SELECT kind, next_run_at, requested_at, attempts, lease_owner, lease_until,
	last_started_at, last_finished_at, last_result, last_error, last_duration_ms, run_slot FROM jobs`

func (s *db) scanJob(row interface{ Scan(...any) error }) (*inventory.Job, error) {
	var j inventory.Job
	var ms int64
	err := row.Scan(&j.Kind, timeCol{&j.NextRunAt}, timeCol{&j.RequestedAt}, &j.Attempts, &j.LeaseOwner,
		timeCol{&j.LeaseUntil}, timeCol{&j.LastStartedAt}, timeCol{&j.LastFinishedAt}, &j.LastResult,
		&j.LastError, &ms, timeCol{&j.RunSlot})
	j.LastDuration = time.Duration(ms) * time.Millisecond
	return &j, err
}

// jobTx runs fn in a write transaction (retried as every one is, see
// withTx) and names op in its errors.
func (s *db) jobTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	err := s.withTx(ctx, fn)
	if err != nil && !errors.Is(err, inventory.ErrNotFound) && !errors.Is(err, inventory.ErrConflict) {
		return wrap(op, err)
	}
	return err
}

// isRetryable reports whether err is a PostgreSQL serialization failure
// or deadlock, after which the whole transaction may be tried again.
func isRetryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
