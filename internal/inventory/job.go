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
	// RunSlot is the slot of the run under way or last claimed: the
	// NextRunAt it was claimed for, or the request's time for a run-now
	// before its slot. It names the run's JobRunRecord.
	RunSlot time.Time
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

// JobRunRecord is one run in a job's history: the slot it served, the
// instance that ran it, and its outcome (Finished is zero while it runs,
// or when the instance died and nobody took it over yet).
type JobRunRecord struct {
	Kind     string
	Slot     time.Time
	Owner    string
	Started  time.Time
	Finished time.Time
	Result   string
	Error    string
	Duration time.Duration
}

// Leader is the scheduler's leader lease: Owner claims the shared jobs
// until LeaseUntil, and has led since Since.
type Leader struct {
	Owner      string
	Since      time.Time
	LeaseUntil time.Time
}

// JobRunsKept is how many runs of each kind the history keeps.
const JobRunsKept = 200

// JobStore keeps the scheduler's jobs. Each method is one transaction.
type JobStore interface {
	// EnsureJob adds the job of kind, due at firstRun, unless it exists.
	EnsureJob(ctx context.Context, kind string, firstRun time.Time) error
	// ClaimJob leases the job of kind to owner until leaseUntil when it
	// is due at now (or requested, or its last run was interrupted: its
	// lease ran out unreleased) and not leased; it takes the interrupted
	// run's slot first, else the due slot, else the request's; it clears
	// a request it serves, records now as the start and opens the slot's
	// JobRunRecord (taking over one a dead owner left unfinished). It
	// returns nil, nil when the job is not due, another owner holds it,
	// or its slot ran already.
	ClaimJob(ctx context.Context, kind, owner string, now, leaseUntil time.Time) (*Job, error)
	// RenewJob extends owner's lease of kind to leaseUntil (a running
	// job's heartbeat); ErrConflict when owner no longer holds it.
	RenewJob(ctx context.Context, kind, owner string, leaseUntil time.Time) error
	// FinishJob records run in the job and its JobRunRecord, releases the
	// lease and prunes the history to JobRunsKept runs, when owner still
	// holds it; otherwise it changes nothing and returns ErrConflict.
	FinishJob(ctx context.Context, kind, owner string, run JobRun) error
	// ListJobRuns returns up to limit runs of kind, newest slot first.
	ListJobRuns(ctx context.Context, kind string, limit int) ([]JobRunRecord, error)
	// ClaimLeadership makes owner the leader until leaseUntil when no one
	// is, the lease ran out by now, or owner leads already (a renewal);
	// it returns the leader after the attempt.
	ClaimLeadership(ctx context.Context, owner string, now, leaseUntil time.Time) (Leader, error)
	// ResignLeadership ends owner's lease at once; nothing when owner
	// does not lead.
	ResignLeadership(ctx context.Context, owner string) error
	// JobLeader returns the leader lease; ErrNotFound when there never
	// was a leader.
	JobLeader(ctx context.Context) (Leader, error)
	// RequestJob asks for a run of kind at once; its slot is at, or the
	// second after the last claimed slot when at is not later. An unknown
	// kind gives ErrNotFound.
	RequestJob(ctx context.Context, kind string, at time.Time) error
	// ListJobs returns every job in kind order.
	ListJobs(ctx context.Context) ([]Job, error)
}
