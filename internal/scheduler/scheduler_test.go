package scheduler

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestSlotRunsOnce: two schedulers over one inventory (on PostgreSQL two
// connections, as two instances) run each slot once.
func TestSlotRunsOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		clk := newClock()
		c := &counter{}
		kind := Kind{Name: "tick", Run: c.Run, Every: time.Hour}
		st1, _ := openJobs(t, loc)
		st2, _ := openJobs(t, loc)
		a, _ := start(t, st1, clk, kind)
		b, _ := start(t, st2, clk, kind)
		settle(t, a, b)
		if n := c.Count(); n != 0 {
			t.Fatalf("%d runs before the first slot, want 0", n)
		}
		for i := 1; i <= 3; i++ {
			clk.Advance(time.Hour)
			testenv.WaitFor(t, 30*time.Second, "a run", func() bool { return c.Count() >= i })
			testenv.WaitFor(t, 30*time.Second, "the run's end", func() bool { return !status(t, a).Running })
			settle(t, a, b)
			if n := c.Count(); n != i {
				t.Fatalf("after slot %d: %d runs, want %d", i, n, i)
			}
		}
	})
}

// TestSubSecondInterval: a kind due more often than once a second (the
// inventory keeps slots to the second) runs in every later second rather
// than stopping after its first run in a slot's second.
func TestSubSecondInterval(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		clk := newClock()
		c := &counter{}
		st, _ := openJobs(t, loc)
		start(t, st, clk, Kind{Name: "fast", Run: c.Run, Every: 300 * time.Millisecond})
		// The first slot may run before the clock first moves (its
		// 300 ms fall within the stored second). What must not happen is
		// a next slot in the second that just ran: that slot is spent,
		// and the job would never run again. Every second the clock
		// moves brings another run.
		for i := 1; i <= 3; i++ {
			before := c.Count()
			clk.Advance(time.Second)
			testenv.WaitFor(t, 30*time.Second, fmt.Sprintf("a run in round %d, a second after the last", i),
				func() bool { return c.Count() > before })
		}
	})
}

func TestAfterSlot(t *testing.T) {
	slot := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ next, want time.Time }{
		{slot.Add(300 * time.Millisecond), slot.Add(time.Second)},
		{slot.Add(-time.Minute), slot.Add(time.Second)},
		{slot.Add(time.Second), slot.Add(time.Second)},
		{slot.Add(time.Hour), slot.Add(time.Hour)},
	} {
		if got := afterSlot(slot.Add(200*time.Millisecond), tc.next); !got.Equal(tc.want) {
			t.Errorf("afterSlot(%s, %s) = %s, want %s", slot, tc.next, got, tc.want)
		}
	}
}

// TestSurvivesRestart: a job due while no scheduler runs is run by the
// next one, over the reopened inventory.
func TestSurvivesRestart(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		clk := newClock()
		c := &counter{}
		kind := Kind{Name: "tick", Run: c.Run, Every: time.Hour}
		st, closeSt := openJobs(t, loc)
		s, stop := start(t, st, clk, kind)
		settle(t, s)
		stop()
		closeSt()
		if n := c.Count(); n != 0 {
			t.Fatalf("%d runs before the slot, want 0", n)
		}
		clk.Advance(2 * time.Hour)
		st2, _ := openJobs(t, loc)
		s2, _ := start(t, st2, clk, kind)
		testenv.WaitFor(t, 30*time.Second, "the due run", func() bool { return c.Count() == 1 })
		testenv.WaitFor(t, 30*time.Second, "its result", func() bool { return status(t, s2).LastResult == ResultOK })
	})
}

// TestLeaseTakeover: a job leased by an instance that died is run once
// its lease has expired, and the dead instance can no longer record a
// run.
func TestLeaseTakeover(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		clk := newClock()
		c := &counter{}
		st, _ := openJobs(t, loc)
		t0 := clk.Now()
		if err := st.EnsureJob(ctx, "tick", t0); err != nil {
			t.Fatal(err)
		}
		if job, err := st.ClaimJob(ctx, "tick", "dead", t0, t0.Add(time.Minute)); err != nil || job == nil {
			t.Fatalf("ClaimJob = %v, %v; want the job", job, err)
		}
		s, _ := start(t, st, clk, Kind{Name: "tick", Run: c.Run, Every: time.Hour})
		settle(t, s)
		if n := c.Count(); n != 0 {
			t.Fatalf("%d runs under another instance's lease, want 0", n)
		}
		clk.Advance(time.Minute)
		testenv.WaitFor(t, 30*time.Second, "the run after the lease", func() bool { return status(t, s).LastResult == ResultOK })
		err := st.FinishJob(ctx, "tick", "dead", inventory.JobRun{Finished: t0, NextRunAt: t0, Result: ResultOK})
		if !errors.Is(err, inventory.ErrConflict) {
			t.Fatalf("FinishJob by the lost lease's owner: %v, want ErrConflict", err)
		}
		if c.Count() != 1 || !status(t, s).NextRun.Equal(t0.Add(time.Minute+time.Hour)) {
			t.Fatalf("%d runs, status %+v; want one run and the next an hour on", c.Count(), status(t, s))
		}
	})
}

// TestRetryBackoff: a failed run is retried after Backoff, then twice
// that, and a success returns to the schedule.
func TestRetryBackoff(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		clk := newClock()
		c := &counter{fails: 2}
		st, _ := openJobs(t, loc)
		s, _ := start(t, st, clk, Kind{Name: "flaky", Run: c.Run, Every: time.Hour, Backoff: time.Minute, AtStart: true})
		t0 := clk.Now()
		testenv.WaitFor(t, 30*time.Second, "the first attempt", func() bool { return status(t, s).Attempts == 1 })
		got := status(t, s)
		if got.LastResult != ResultFailed || got.LastError != string(errFailed) || !got.NextRun.Equal(t0.Add(time.Minute)) {
			t.Fatalf("after the first failure: %+v, want failed, retry at %s", got, t0.Add(time.Minute))
		}
		clk.Advance(30 * time.Second)
		settle(t, s)
		if n := c.Count(); n != 1 {
			t.Fatalf("%d runs before the backoff ended, want 1", n)
		}
		clk.Advance(30 * time.Second)
		testenv.WaitFor(t, 30*time.Second, "the second attempt", func() bool { return status(t, s).Attempts == 2 })
		if got := status(t, s).NextRun; !got.Equal(t0.Add(3 * time.Minute)) {
			t.Fatalf("second retry at %s, want %s", got, t0.Add(3*time.Minute))
		}
		clk.Advance(2 * time.Minute)
		testenv.WaitFor(t, 30*time.Second, "the success", func() bool { return status(t, s).LastResult == ResultOK })
		got = status(t, s)
		if got.Attempts != 0 || !got.NextRun.Equal(t0.Add(3*time.Minute+time.Hour)) || c.Count() != 3 {
			t.Fatalf("after the success: %+v after %d runs, want the next run an hour on", got, c.Count())
		}
	})
}

// TestRunNow: RunNow runs a job at once and the read model shows the run
// and the next slot; an unknown kind is refused.
func TestRunNow(t *testing.T) {
	eachBackend(t, func(t *testing.T, loc string) {
		clk := newClock()
		c := &counter{}
		st, _ := openJobs(t, loc)
		s, _ := start(t, st, clk, Kind{Name: "tick", Run: c.Run, Every: time.Hour})
		clk.Advance(10 * time.Minute)
		now := clk.Now()
		if err := s.RunNow(context.Background(), "tick"); err != nil {
			t.Fatalf("RunNow: %v", err)
		}
		testenv.WaitFor(t, 30*time.Second, "the run", func() bool { return status(t, s).LastResult == ResultOK })
		got := status(t, s)
		if c.Count() != 1 || !got.LastStarted.Equal(now) || !got.LastFinished.Equal(now) ||
			!got.NextRun.Equal(now.Add(time.Hour)) || got.Requested || got.Running {
			t.Fatalf("status after RunNow: %+v after %d runs", got, c.Count())
		}
		if err := s.RunNow(context.Background(), "nope"); !errors.Is(err, ErrUnknownKind) {
			t.Fatalf("RunNow of an unknown kind: %v, want ErrUnknownKind", err)
		}
	})
}

// TestWake: a receive on a kind's Wake runs it.
func TestWake(t *testing.T) {
	clk := newClock()
	c := &counter{}
	wake := make(chan struct{}, 1)
	st, _ := openJobs(t, backends()[0].fresh(t))
	start(t, st, clk, Kind{Name: "tick", Run: c.Run, Every: time.Hour, Wake: wake})
	wake <- struct{}{}
	testenv.WaitFor(t, 30*time.Second, "the woken run", func() bool { return c.Count() == 1 })
}

// TestNew refuses unnamed, run-less and duplicate kinds.
func TestNew(t *testing.T) {
	run := func(context.Context) error { return nil }
	for _, kinds := range [][]Kind{
		{{Name: "", Run: run}},
		{{Name: "a"}},
		{{Name: "a", Run: run}, {Name: "a", Run: run}},
		{{Name: "a", Run: run, DailyAt: 25 * time.Hour}},
	} {
		if _, err := New(nil, kinds, Config{}, nil); err == nil {
			t.Errorf("New(%v) succeeded", kinds)
		}
	}
}

func TestNextAndBackoff(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	daily := Kind{DailyAt: 6 * time.Hour}
	if got, want := daily.next(at), time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("daily at 06:00 after 10:00: %s, want %s", got, want)
	}
	daily.DailyAt = 12 * time.Hour
	if got, want := daily.next(at), time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("daily at 12:00 after 10:00: %s, want %s", got, want)
	}
	jit := Kind{Every: time.Hour, Jitter: time.Minute}
	for range 20 {
		if got := jit.next(at).Sub(at); got < time.Hour || got >= time.Hour+time.Minute {
			t.Fatalf("interval with jitter: %s", got)
		}
	}
	k := Kind{Every: 10 * time.Minute, Backoff: time.Minute}
	for attempts, want := range map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 4: 8 * time.Minute, 9: 10 * time.Minute} {
		if got := k.backoff(attempts); got != want {
			t.Errorf("backoff(%d) = %s, want %s", attempts, got, want)
		}
	}
}
