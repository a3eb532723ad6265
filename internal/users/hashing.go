package users

import (
	"bufio"
	"context"
	"errors"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ErrBusy means every password-hashing slot stayed taken for the whole
// wait: the server is answering as many sign-ins as its memory allows.
// Callers answer it with 429 and a Retry-After of BusyRetryAfter.
var ErrBusy = errors.New("users: too many sign-ins at once; try again in a moment")

// BusyRetryAfter is how long a caller refused with ErrBusy is told to wait.
const BusyRetryAfter = 2 * time.Second

// DefaultHashWait is how long a password check waits for a free hashing
// slot before giving up with ErrBusy.
const DefaultHashWait = 3 * time.Second

// Bounds of the number of hashing slots HashSlots returns.
const (
	minHashSlots = 1
	maxHashSlots = 16
)

// hashShare is the part of the memory budget (1/hashShare) that password
// hashing may hold at once. The rest leaves room for the heap the hashes
// leave behind until the collector runs, and for everything else.
const hashShare = 4

// hashLimiter bounds how many argon2id computations run at once: each
// holds Params.Memory KiB for its whole run, so an unbounded number of
// concurrent sign-ins is an unbounded amount of memory.
type hashLimiter struct {
	slots      chan struct{}
	wait       time.Duration
	collecting atomic.Bool
	// runs counts the computations run, so that tests can check that
	// every sign-in path does the same hashing work.
	runs atomic.Int64
}

// newHashLimiter returns a limiter of n slots (at least 1) whose callers
// wait up to wait for one.
func newHashLimiter(n int, wait time.Duration) *hashLimiter {
	return &hashLimiter{slots: make(chan struct{}, max(n, 1)), wait: wait}
}

// acquire takes a slot, waiting up to l.wait; it gives ErrBusy when none
// came free in time, or ctx's error when ctx ended first. Waiters are
// served in arrival order.
func (l *hashLimiter) acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *hashLimiter) release() { <-l.slots }

// run runs fn in a slot, then has the collector take back the memory
// the hash used (see collect).
func (l *hashLimiter) run(ctx context.Context, fn func()) error {
	if err := l.acquire(ctx); err != nil {
		return err
	}
	defer l.release()
	l.runs.Add(1)
	fn()
	l.collect()
	return nil
}

// collect starts a garbage collection unless one it started is still
// running. Each argon2id run leaves its whole memory cost (64 MiB by
// default) as garbage; with the binary's GOGC=400 the collector would let
// several of those pile up before it runs, which is how a burst of
// sign-ins took the process past 2 GiB. Collecting after each hash keeps
// the peak near the slots' own memory. The collection runs in its own
// goroutine so that the sign-in does not wait for it.
func (l *hashLimiter) collect() {
	if !l.collecting.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer l.collecting.Store(false)
		runtime.GC()
	}()
}

// HashSlots is how many hashes of p may run at once: a quarter of the
// memory budget divided by p's memory cost, at least 1 and at most 16,
// and no more than the CPUs Go uses (argon2id keeps a CPU busy, so more
// would only wait for one while holding their memory). The budget is the Go memory limit
// (GOMEMLIMIT, or what the program set), else the machine's memory, else
// 1 GiB.
func HashSlots(p Params) int {
	cost := int64(p.Memory) * 1024
	if cost <= 0 {
		return maxHashSlots
	}
	n := memoryBudget() / hashShare / cost
	n = min(n, int64(runtime.GOMAXPROCS(0)), maxHashSlots)
	return int(max(n, minHashSlots))
}

// memoryBudget is the Go memory limit, else the machine's total memory,
// else 1 GiB.
func memoryBudget() int64 {
	if limit := debug.SetMemoryLimit(-1); limit > 0 && limit < math.MaxInt64 {
		return limit
	}
	if total, ok := totalMemory(); ok {
		return total
	}
	return 1 << 30
}

// totalMemory reads MemTotal from /proc/meminfo (Linux).
func totalMemory() (int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		return kib * 1024, err == nil && kib > 0
	}
	return 0, false
}
