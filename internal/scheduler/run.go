package scheduler

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// finishTimeout bounds writing a run's outcome after the run's context
// ended.
const finishTimeout = 10 * time.Second

// poll claims and starts every due kind this instance is not running.
// It reads the jobs first, so that only due ones cost a write.
func (s *Scheduler) poll(ctx context.Context, wg *sync.WaitGroup) {
	defer s.countPoll()
	jobs, err := s.st.ListJobs(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("listing jobs", "err", err)
		}
		return
	}
	now := s.cfg.Now()
	leader := s.Leader()
	for _, k := range s.kinds {
		if ctx.Err() != nil || (!k.PerInstance && !leader) || !due(jobs, k.Name, now) || !s.mark(k.Name) {
			continue
		}
		job, err := s.st.ClaimJob(ctx, k.Name, s.cfg.Owner, now, now.Add(s.cfg.LeaseTTL))
		if err != nil || job == nil {
			if err != nil && ctx.Err() == nil {
				s.log.Warn("claiming job", "kind", k.Name, "err", err)
			}
			s.unmark(k.Name)
			continue
		}
		wg.Go(func() { s.execute(ctx, k, job) })
	}
}

// due reports whether the job of kind is due, requested or interrupted
// (its lease ran out unreleased) at now and not leased. A kind without a
// job (yet) is not due.
func due(jobs []inventory.Job, kind string, now time.Time) bool {
	for _, j := range jobs {
		if j.Kind == kind {
			return (!j.NextRunAt.After(now) || !j.RequestedAt.IsZero() || j.LeaseOwner != "") &&
				(j.LeaseUntil.IsZero() || !j.LeaseUntil.After(now))
		}
	}
	return false
}

func (s *Scheduler) countPoll() {
	s.mu.Lock()
	s.polls++
	s.mu.Unlock()
}

// mark records that kind runs here; false when it runs already.
func (s *Scheduler) mark(kind string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[kind] {
		return false
	}
	s.running[kind] = true
	return true
}

func (s *Scheduler) unmark(kind string) {
	s.mu.Lock()
	delete(s.running, kind)
	s.mu.Unlock()
}

// execute runs the claimed job under a renewed lease, records its
// outcome and next slot, and looks for due work again (a request may have
// come during the run). A run whose lease was lost is cancelled and
// records nothing: the instance that took it over does.
func (s *Scheduler) execute(ctx context.Context, k Kind, job *inventory.Job) {
	defer s.kick()
	defer s.unmark(k.Name)
	started := s.cfg.Now()
	rctx, cancel := context.WithTimeout(ctx, k.timeout())
	lost := s.keepLease(rctx, cancel, k.Name)
	err := k.Run(rctx)
	cancel()
	if <-lost {
		s.count(k.base, ResultLost)
		s.log.Error("job lease lost; another instance runs the slot", "kind", k.Name, "slot", job.RunSlot)
		return
	}
	finished := s.cfg.Now()
	run := inventory.JobRun{Finished: finished, Duration: finished.Sub(started), Result: ResultOK,
		NextRunAt: k.next(finished)}
	if err != nil {
		run.Result, run.Error, run.Attempts = ResultFailed, err.Error(), job.Attempts+1
		run.NextRunAt = finished.Add(k.backoff(run.Attempts))
		s.log.Error("job failed", "kind", k.Name, "attempt", run.Attempts, "retry_at", run.NextRunAt, "err", err)
	}
	run.NextRunAt = afterSlot(job.RunSlot, run.NextRunAt)
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer fcancel()
	if err := s.st.FinishJob(fctx, k.Name, s.cfg.Owner, run); err != nil {
		s.count(k.base, ResultLost)
		s.log.Error("recording job run", "kind", k.Name, "err", err)
		return
	}
	s.count(k.base, run.Result)
}

// keepLease renews the lease of job every heartbeat until ctx ends; when
// the lease is lost it calls cancel. The channel it returns yields, once
// ctx has ended, whether the lease was lost.
func (s *Scheduler) keepLease(ctx context.Context, cancel context.CancelFunc, job string) <-chan bool {
	lost := make(chan bool, 1)
	go func() {
		t := time.NewTicker(s.heartbeat())
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				lost <- false
				return
			case <-t.C:
			}
			err := s.st.RenewJob(ctx, job, s.cfg.Owner, s.cfg.Now().Add(s.cfg.LeaseTTL))
			if errors.Is(err, inventory.ErrConflict) {
				cancel()
				lost <- true
				return
			} else if err != nil && ctx.Err() == nil {
				s.log.Warn("renewing job lease", "kind", job, "err", err)
			}
		}
	}()
	return lost
}

// afterSlot returns next, or the start of the second after slot when next
// falls within slot's second. The inventory keeps times, slots included,
// to the second, and a slot that finished never runs again: a job whose
// next slot were stored in the second it just ran (an interval under a
// second, a quick retry) would stay due and never be claimed.
func afterSlot(slot, next time.Time) time.Time {
	if floor := slot.Truncate(time.Second).Add(time.Second); next.Before(floor) {
		return floor
	}
	return next
}
