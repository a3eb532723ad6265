package scheduler

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// backend makes fresh inventories of one technology.
type backend struct {
	name  string
	fresh func(t *testing.T) string
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "certkeeper.db") }},
		{"postgres", func(t *testing.T) string { return testenv.PostgresDSN(t) }},
	}
}

// eachBackend runs test on every backend.
func eachBackend(t *testing.T, test func(t *testing.T, loc string)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { test(t, b.fresh(t)) })
	}
}

// openJobs opens the inventory at loc; it is closed when the test ends
// unless closed before.
func openJobs(t *testing.T, loc string) (inventory.JobStore, func()) {
	t.Helper()
	st, err := store.Open(context.Background(), loc)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	var once sync.Once
	closeIt := func() {
		once.Do(func() {
			if err := st.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		})
	}
	t.Cleanup(closeIt)
	return st.(inventory.JobStore), closeIt
}

// counter counts runs and can be told to fail the first ones.
type counter struct {
	mu    sync.Mutex
	n     int
	fails int
}

func (c *counter) Run(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if c.n <= c.fails {
		return errFailed
	}
	return nil
}

func (c *counter) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

type testError string

func (e testError) Error() string { return string(e) }

const errFailed = testError("injected failure")

// start builds a scheduler and runs it, once started, until the test
// ends or the returned stop is called; stop waits for Run to return.
func start(t *testing.T, st inventory.JobStore, clk *testenv.Clock, kinds ...Kind) (*Scheduler, func()) {
	t.Helper()
	s, err := New(st, kinds, Config{Poll: 20 * time.Millisecond, Now: clk.Now},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	waitStarted(t, s)
	return s, stop
}

// waitStarted waits until s has added its jobs and looked for due ones
// once, so that a clock moved afterwards finds its first slots in place.
func waitStarted(t *testing.T, s *Scheduler) {
	t.Helper()
	testenv.WaitFor(t, 30*time.Second, "the scheduler's start", func() bool { return s.pollCount() >= 1 })
}

// polls returns how often s looked for due jobs.
func (s *Scheduler) pollCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls
}

// settle waits until every scheduler has looked for due jobs a few more
// times, so that a run that should not happen would have.
func settle(t *testing.T, ss ...*Scheduler) {
	t.Helper()
	for _, s := range ss {
		target := s.pollCount() + 3
		testenv.WaitFor(t, 30*time.Second, "polls", func() bool { return s.pollCount() >= target })
	}
}

// status returns the status of the only kind of s.
func status(t *testing.T, s *Scheduler) Status {
	t.Helper()
	sts, err := s.Status(context.Background())
	if err != nil || len(sts) != 1 {
		t.Fatalf("Status: %v, %v", sts, err)
	}
	return sts[0]
}

// newClock is a test clock at a fixed start.
func newClock() *testenv.Clock { return testenv.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)) }
