package ca

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGroupBatches checks that concurrent calls share flushes, that every
// caller gets its own result, and that one bad item fails only its caller.
func TestGroupBatches(t *testing.T) {
	for _, window := range []time.Duration{-1, 0, time.Millisecond} {
		var flushes atomic.Int32
		g := newGroup(window, 8, func(_ context.Context, in []int) ([]int, error) {
			flushes.Add(1)
			time.Sleep(200 * time.Microsecond)
			out := make([]int, len(in))
			for i, v := range in {
				if v == 13 {
					return nil, errors.New("unlucky")
				}
				out[i] = v * 2
			}
			return out, nil
		})
		var wg sync.WaitGroup
		const n = 64
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := g.do(context.Background(), i)
				switch {
				case i == 13 && err == nil:
					t.Errorf("window %v: item 13 succeeded", window)
				case i != 13 && (err != nil || got != 2*i):
					t.Errorf("window %v: do(%d) = %d, %v; want %d", window, i, got, err, 2*i)
				}
			}()
		}
		wg.Wait()
		t.Logf("window %v: %d flushes for %d calls", window, flushes.Load(), n)
		if window >= 0 && flushes.Load() >= n+8 {
			t.Errorf("window %v: %d flushes for %d calls, want batching", window, flushes.Load(), n)
		}
	}
}
