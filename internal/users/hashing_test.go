package users

import (
	"context"
	"errors"
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHashLimiter(t *testing.T) {
	l := newHashLimiter(2, 50*time.Millisecond)
	ctx := context.Background()
	for i := range 2 {
		if err := l.acquire(ctx); err != nil {
			t.Fatalf("acquire %d: %v", i+1, err)
		}
	}
	if err := l.acquire(ctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("acquire with both slots taken: %v, want ErrBusy", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	l.wait = time.Hour
	if err := l.acquire(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire with an ended context: %v, want context.Canceled", err)
	}
	// A waiter gets the slot released while it waits.
	got := make(chan error, 1)
	go func() { got <- l.acquire(ctx) }()
	l.release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("waiting acquire: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a waiter did not get the released slot")
	}
}

// TestHashLimiterBounds: however many callers, no more than the slots run
// at once, and all of them run when they may wait long enough.
func TestHashLimiterBounds(t *testing.T) {
	l := newHashLimiter(3, time.Minute)
	var running, peak, done atomic.Int32
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			err := l.run(context.Background(), func() {
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				runtime.Gosched()
				time.Sleep(time.Millisecond)
				running.Add(-1)
			})
			if err == nil {
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if peak.Load() > 3 || done.Load() != 30 {
		t.Errorf("peak %d at once, %d done; want at most 3 and 30", peak.Load(), done.Load())
	}
}

func TestHashSlots(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	cpus := runtime.GOMAXPROCS(0)
	for _, tc := range []struct {
		limit int64
		p     Params
		want  int
	}{
		{1 << 30, DefaultParams, min(4, cpus)},
		{64 << 30, DefaultParams, min(256, cpus, maxHashSlots)},
		{1 << 30, Params{Memory: 1 << 20, Time: 1, Threads: 1}, 1},
		{256 << 30, Params{Memory: 64, Time: 1, Threads: 1}, min(cpus, maxHashSlots)},
	} {
		debug.SetMemoryLimit(tc.limit)
		if got := HashSlots(tc.p); got != tc.want {
			t.Errorf("HashSlots(m=%d) under a %d-byte limit = %d, want %d", tc.p.Memory, tc.limit, got, tc.want)
		}
	}
	debug.SetMemoryLimit(math.MaxInt64)
	if got := HashSlots(DefaultParams); got < 1 || got > maxHashSlots {
		t.Errorf("HashSlots without a limit = %d, want 1 to %d", got, maxHashSlots)
	}
}

// TestLoginBusy: with every hashing slot taken, a sign-in gives ErrBusy
// after the wait instead of piling up more memory.
func TestLoginBusy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, "test", "ada", "user", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	f.svc.LimitHashing(1, 20*time.Millisecond)
	if err := f.svc.hashing.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ada", "nobody"} {
		if _, _, err := f.svc.Login(ctx, name, "correct horse battery", "10.0.0.1", ""); !errors.Is(err, ErrBusy) {
			t.Errorf("Login(%s) with no free slot: %v, want ErrBusy", name, err)
		}
	}
	if _, err := f.svc.Create(ctx, "test", "bob", "user", "correct horse battery"); !errors.Is(err, ErrBusy) {
		t.Errorf("Create with no free slot: %v, want ErrBusy", err)
	}
	f.svc.hashing.release()
	if _, _, err := f.svc.Login(ctx, "ada", "correct horse battery", "10.0.0.1", ""); err != nil {
		t.Errorf("Login with the slot free: %v", err)
	}
}
