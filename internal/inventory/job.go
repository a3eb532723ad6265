package inventory

import (
	"context"
	"time"
)

// Job is the durable state of one kind of background work: when it runs
// next, who holds it now, and how its last run went. There is one Job per
// kind; its slot is the (kind, NextRunAt) pair, which one claim serves.
type Job struct {
	Kind string
	// NextRunAt is when the job is due; RequestedAt, when not zero, asks
	// for a run at once (an Admin's "run now").
	NextRunAt   time.Time
	RequestedAt time.Time
	// Attempts counts failed runs since the last success.
	Attempts int
	// LeaseOwner holds the job until LeaseUntil while it runs.
	LeaseOwner string
	LeaseUntil time.Time
	// The last run: when it started and finished, "ok" or "failed", its
	// error text and how long it took.
	LastStartedAt  time.Time
	LastFinishedAt time.Time
	LastResult     string
	LastError      string
	LastDuration   time.Duration
}

// JobRun is the outcome of one run, written by FinishJob.
type JobRun struct {
	Finished time.Time
	Duration time.Duration
	Result   string
	Error    string
	// NextRunAt and Attempts are the job's schedule after this run.
	NextRunAt time.Time
	Attempts  int
}

// JobStore keeps the scheduler's jobs. Each method is one transaction.
type JobStore interface {
	// EnsureJob adds the job of kind, due at firstRun, unless it exists.
	EnsureJob(ctx context.Context, kind string, firstRun time.Time) error
	// ClaimJob leases the job of kind to owner until leaseUntil when it
	// is due at now (or requested) and not leased; it clears the request
	// and records now as the start. It returns nil, nil when the job is
	// not due or another owner holds it.
	ClaimJob(ctx context.Context, kind, owner string, now, leaseUntil time.Time) (*Job, error)
	// FinishJob records run and releases the lease, when owner still
	// holds it; otherwise it changes nothing and returns ErrConflict.
	FinishJob(ctx context.Context, kind, owner string, run JobRun) error
	// RequestJob asks for a run of kind at once. An unknown kind gives
	// ErrNotFound.
	RequestJob(ctx context.Context, kind string, at time.Time) error
	// ListJobs returns every job in kind order.
	ListJobs(ctx context.Context) ([]Job, error)
}
