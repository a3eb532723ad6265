package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Status is the read model of one job: its schedule, last run, next slot
// and whether it is running.
type Status struct {
	// Kind is the job's name: a kind's, with "@instance" for a
	// per-instance kind.
	Kind string
	// Schedule describes the schedule ("every 10m0s, and at start");
	// empty for another instance's per-instance kind this one does not
	// run.
	Schedule string
	// Instance is the instance a per-instance job runs on; "" for a
	// shared one, which the leader runs.
	Instance string
	NextRun  time.Time
	// Requested is set while a run-now request waits.
	Requested bool
	Running   bool
	// RunningOn is the instance holding the lease while Running.
	RunningOn string
	// LastStarted and LastFinished are zero before the first run.
	LastStarted  time.Time
	LastFinished time.Time
	LastResult   string
	LastError    string
	LastDuration time.Duration
	// Attempts counts failed runs since the last success.
	Attempts int
}

// Overview is the scheduler's read model: every job, the leader, and the
// instance that answered.
type Overview struct {
	// Instance is this instance's name; Leader the leader lease (zero
	// when no instance ever led) and LeaderAlive whether it is current.
	Instance    string
	Leader      inventory.Leader
	LeaderAlive bool
	Jobs        []Status
}

// Overview returns every job (this instance's kinds first, in order,
// then the other instances' per-instance jobs) and the leader.
func (s *Scheduler) Overview(ctx context.Context) (Overview, error) {
	sts, err := s.Status(ctx)
	if err != nil {
		return Overview{}, err
	}
	l, err := s.st.JobLeader(ctx)
	if err != nil && !errors.Is(err, inventory.ErrNotFound) {
		return Overview{}, fmt.Errorf("scheduler: %w", err)
	}
	return Overview{Instance: s.cfg.Owner, Leader: l, LeaderAlive: l.LeaseUntil.After(s.cfg.Now()), Jobs: sts}, nil
}

// Status returns the state of every job: this instance's kinds in order,
// then the jobs in the inventory it does not run (other instances'
// per-instance kinds) in name order.
func (s *Scheduler) Status(ctx context.Context) ([]Status, error) {
	jobs, err := s.st.ListJobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	now := s.cfg.Now()
	byName := make(map[string]inventory.Job, len(jobs))
	for _, j := range jobs {
		byName[j.Kind] = j
	}
	out := make([]Status, 0, len(jobs))
	for _, k := range s.kinds {
		st := Status{Kind: k.Name}
		if j, ok := byName[k.Name]; ok {
			st = jobStatus(j, now)
			delete(byName, k.Name)
		}
		st.Schedule = k.schedule()
		if k.PerInstance {
			st.Instance = s.cfg.Owner
		}
		out = append(out, st)
	}
	for _, j := range jobs {
		if _, ok := byName[j.Kind]; ok {
			st := jobStatus(j, now)
			if _, inst, ok := strings.Cut(j.Kind, "@"); ok {
				st.Instance = inst
			}
			out = append(out, st)
		}
	}
	return out, nil
}

func jobStatus(j inventory.Job, now time.Time) Status {
	st := Status{Kind: j.Kind, NextRun: j.NextRunAt, Requested: !j.RequestedAt.IsZero(),
		Running:     j.LeaseOwner != "" && j.LeaseUntil.After(now),
		LastStarted: j.LastStartedAt, LastFinished: j.LastFinishedAt, LastResult: j.LastResult,
		LastError: j.LastError, LastDuration: j.LastDuration, Attempts: j.Attempts}
	if st.Running {
		st.RunningOn = j.LeaseOwner
	}
	return st
}

// Runs returns up to limit runs of the job kind, newest first; an
// unknown job is ErrUnknownKind.
func (s *Scheduler) Runs(ctx context.Context, kind string, limit int) ([]inventory.JobRunRecord, error) {
	if _, ok := s.kind(kind); !ok {
		sts, err := s.Status(ctx)
		if err != nil {
			return nil, err
		}
		if !hasJob(sts, kind) {
			return nil, fmt.Errorf("%w: %q", ErrUnknownKind, kind)
		}
	}
	runs, err := s.st.ListJobRuns(ctx, kind, limit)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	return runs, nil
}

func hasJob(sts []Status, kind string) bool {
	for _, st := range sts {
		if st.Kind == kind {
			return true
		}
	}
	return false
}
