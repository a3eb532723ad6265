package scheduler

import (
	"context"
	"fmt"
	"time"
)

// Status is the read model of one job kind: its last run, next slot and
// whether it is running.
type Status struct {
	Kind    string
	NextRun time.Time
	// Requested is set while a run-now request waits.
	Requested bool
	Running   bool
	// LastStarted and LastFinished are zero before the first run.
	LastStarted  time.Time
	LastFinished time.Time
	LastResult   string
	LastError    string
	LastDuration time.Duration
	// Attempts counts failed runs since the last success.
	Attempts int
}

// Status returns the state of every kind the scheduler runs, in the
// order of its kinds.
func (s *Scheduler) Status(ctx context.Context) ([]Status, error) {
	jobs, err := s.st.ListJobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	now := s.cfg.Now()
	out := make([]Status, 0, len(s.kinds))
	for _, k := range s.kinds {
		st := Status{Kind: k.Name}
		for _, j := range jobs {
			if j.Kind != k.Name {
				continue
			}
			st = Status{Kind: j.Kind, NextRun: j.NextRunAt, Requested: !j.RequestedAt.IsZero(),
				Running:     j.LeaseOwner != "" && j.LeaseUntil.After(now),
				LastStarted: j.LastStartedAt, LastFinished: j.LastFinishedAt, LastResult: j.LastResult,
				LastError: j.LastError, LastDuration: j.LastDuration, Attempts: j.Attempts}
		}
		out = append(out, st)
	}
	return out, nil
}
