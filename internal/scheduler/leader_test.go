package scheduler

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestLeaderRunsShared: of two instances only the leader runs a shared
// kind; both run their per-instance kind, each in its own job; the run
// counters and the read model say so.
func TestLeaderRunsShared(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		clk := newClock()
		shared := &counter{}
		st1, _ := openJobs(t, loc)
		st2, _ := openJobs(t, loc)
		kindsOf := func(local *counter) []Kind {
			return []Kind{{Name: "tick", Run: shared.Run, Every: time.Hour},
				{Name: "local", Run: local.Run, Every: time.Hour, PerInstance: true}}
		}
		l1, l2 := &counter{}, &counter{}
		a := startOwned(t, st1, clk, "a", kindsOf(l1)...)
		b := startOwned(t, st2, clk, "b", kindsOf(l2)...)
		testenv.WaitFor(t, 30*time.Second, "a leader", func() bool { return a.Leader() || b.Leader() })
		if a.Leader() == b.Leader() {
			t.Fatalf("Leader(): a %v, b %v; want exactly one", a.Leader(), b.Leader())
		}
		// Both must have added their jobs before the clock moves, or a
		// late one's first slot would be an hour after the move.
		testenv.WaitFor(t, 30*time.Second, "both instances' jobs", func() bool {
			js, err := st1.ListJobs(context.Background())
			return err == nil && len(js) == 3
		})
		clk.Advance(time.Hour)
		testenv.WaitFor(t, 30*time.Second, "every run", func() bool {
			return shared.Count() == 1 && l1.Count() == 1 && l2.Count() == 1
		})
		// The advance ended the lease: whoever leads now ran the slot.
		testenv.WaitFor(t, 30*time.Second, "the counters", func() bool {
			return len(a.RunTotals())+len(b.RunTotals()) == 3
		})
		leader, follower := a, b
		if len(b.RunTotals()) == 2 {
			leader, follower = b, a
		}
		want := []RunTotal{{Job: "local", Result: ResultOK, Count: 1}, {Job: "tick", Result: ResultOK, Count: 1}}
		if got := leader.RunTotals(); !equalTotals(got, want) {
			t.Errorf("leader's RunTotals = %v, want %v", got, want)
		}
		testenv.WaitFor(t, 30*time.Second, "the follower's counter", func() bool { return len(follower.RunTotals()) == 1 })
		if got := follower.RunTotals(); !equalTotals(got, want[:1]) {
			t.Errorf("follower's RunTotals = %v, want %v", got, want[:1])
		}
		o, err := follower.Overview(context.Background())
		if err != nil || o.Leader.Owner != leader.Owner() || !o.LeaderAlive || o.Instance != follower.Owner() || len(o.Jobs) != 3 {
			t.Fatalf("Overview = %+v, %v; want the leader %s and three jobs", o, err, leader.Owner())
		}
		other := "local@" + leader.Owner()
		if o.Jobs[2].Kind != other || o.Jobs[2].Instance != leader.Owner() || o.Jobs[2].LastResult != ResultOK {
			t.Errorf("the other instance's job: %+v, want %s run", o.Jobs[2], other)
		}
		runs, err := follower.Runs(context.Background(), other, 10)
		if err != nil || len(runs) != 1 || runs[0].Owner != leader.Owner() {
			t.Errorf("Runs(%s) = %+v, %v; want one run by %s", other, runs, err, leader.Owner())
		}
	})
}

func equalTotals(a, b []RunTotal) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLostLease: a run whose lease another instance took over is
// cancelled and records nothing; the taker records the slot.
func TestLostLease(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		clk := newClock()
		started := make(chan struct{}, 1)
		cancelled := make(chan struct{})
		block := func(ctx context.Context) error {
			started <- struct{}{}
			<-ctx.Done()
			close(cancelled)
			return ctx.Err()
		}
		st, _ := openJobs(t, loc)
		s, err := New(st, []Kind{{Name: "slow", Run: block, Every: time.Hour, AtStart: true}},
			Config{Owner: "a", Poll: time.Hour, LeaseTTL: 2 * time.Second, Now: clk.Now},
			slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s.Run(runCtx) }()
		defer func() { stop(); <-done }()
		<-started
		clk.Advance(3 * time.Second)
		var job *inventory.Job
		testenv.WaitFor(t, 30*time.Second, "the takeover", func() bool {
			job, err = st.ClaimJob(ctx, "slow", "b", clk.Now(), clk.Now().Add(time.Minute))
			return err == nil && job != nil
		})
		<-cancelled
		testenv.WaitFor(t, 30*time.Second, "the lost run's count", func() bool {
			tot := s.RunTotals()
			return len(tot) == 1 && tot[0] == RunTotal{Job: "slow", Result: ResultLost, Count: 1}
		})
		run := inventory.JobRun{Finished: clk.Now(), Result: ResultOK, NextRunAt: clk.Now().Add(time.Hour)}
		if err := st.FinishJob(ctx, "slow", "b", run); err != nil {
			t.Fatalf("FinishJob by the taker: %v", err)
		}
		runs, err := st.ListJobRuns(ctx, "slow", 10)
		if err != nil || len(runs) != 1 || runs[0].Owner != "b" || runs[0].Result != ResultOK || !runs[0].Slot.Equal(job.RunSlot) ||
			!job.RunSlot.Equal(newClock().Now()) {
			t.Fatalf("history = %+v, %v; want the slot run once, by b", runs, err)
		}
	})
}

// startOwned is start with an instance name.
func startOwned(t *testing.T, st inventory.JobStore, clk *testenv.Clock, owner string, kinds ...Kind) *Scheduler {
	t.Helper()
	s, err := New(st, kinds, Config{Owner: owner, Poll: 20 * time.Millisecond, Now: clk.Now},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitStarted(t, s)
	return s
}
