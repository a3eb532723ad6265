package scheduler

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// RunTotal counts the runs of one job kind with one result that this
// instance made since it started (for metrics). Job is the kind's name
// without the instance suffix of a per-instance kind.
type RunTotal struct {
	Job, Result string
	Count       uint64
}

// ResultLost is the RunTotal result of a run whose lease another instance
// took over before it ended; its outcome was not recorded.
const ResultLost = "lost"

// Leader reports whether this instance holds the leader lease now, so
// that it runs the shared kinds.
func (s *Scheduler) Leader() bool {
	return s.cfg.Now().UnixNano() < s.leaseUntil.Load()
}

// RunTotals returns this instance's run counters, by job and result.
func (s *Scheduler) RunTotals() []RunTotal {
	s.mu.Lock()
	out := make([]RunTotal, 0, len(s.totals))
	for k, n := range s.totals {
		out = append(out, RunTotal{Job: k.Job, Result: k.Result, Count: n})
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b RunTotal) int {
		return cmp.Or(cmp.Compare(a.Job, b.Job), cmp.Compare(a.Result, b.Result))
	})
	return out
}

func (s *Scheduler) count(job, result string) {
	s.mu.Lock()
	s.totals[RunTotal{Job: job, Result: result}]++
	s.mu.Unlock()
}

// heartbeat is how often leases are renewed: a third of their TTL, or
// every poll when that is more often.
func (s *Scheduler) heartbeat() time.Duration { return min(s.cfg.LeaseTTL/3, s.cfg.Poll) }

// leadLoop claims or renews the leader lease every heartbeat until ctx
// ends.
func (s *Scheduler) leadLoop(ctx context.Context) {
	t := time.NewTicker(s.heartbeat())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.lead(ctx)
		}
	}
}

// lead claims or renews the leader lease once. A failed attempt leaves
// the lease this instance knows of to run out on its own.
func (s *Scheduler) lead(ctx context.Context) {
	now := s.cfg.Now()
	until := now.Add(s.cfg.LeaseTTL)
	l, err := s.st.ClaimLeadership(ctx, s.cfg.Owner, now, until)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("claiming the scheduler's leadership", "err", err)
		}
		return
	}
	was := s.Leader()
	if l.Owner != s.cfg.Owner {
		s.leaseUntil.Store(0)
		if was {
			s.log.Warn("scheduler leadership lost", "instance", s.cfg.Owner, "leader", l.Owner)
		}
		return
	}
	s.leaseUntil.Store(l.LeaseUntil.UnixNano())
	if !was {
		s.log.Info("scheduler leadership taken", "instance", s.cfg.Owner, "since", l.Since)
		s.kick()
	}
}

// resign gives the leader lease up when Run ends, so that another
// instance takes over without waiting for it to run out.
func (s *Scheduler) resign() {
	if !s.Leader() {
		return
	}
	s.leaseUntil.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), finishTimeout)
	defer cancel()
	if err := s.st.ResignLeadership(ctx, s.cfg.Owner); err != nil {
		s.log.Warn("resigning the scheduler's leadership", "err", err)
	}
}
