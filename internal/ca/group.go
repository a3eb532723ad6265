package ca

import (
	"context"
	"sync"
	"time"
)

// group commits the work of concurrent callers in shared transactions
// (group commit). The first caller to arrive while no batch is being
// committed leads: it waits up to the window (or until max items are
// queued), takes the queue and flushes it in one call; callers arriving
// meanwhile queue for the next batch, led by one of them. Nothing runs in
// the background between batches.
type group[T, R any] struct {
	window time.Duration
	max    int
	flush  func(ctx context.Context, items []T) ([]R, error)

	mu      sync.Mutex
	queue   []*call[T, R]
	leading bool
	full    chan struct{} // signalled when the queue reaches max
}

type call[T, R any] struct {
	in   T
	out  R
	err  error
	done chan struct{}
}

func newGroup[T, R any](window time.Duration, max int, flush func(context.Context, []T) ([]R, error)) *group[T, R] {
	return &group[T, R]{window: window, max: max, flush: flush, full: make(chan struct{}, 1)}
}

// do queues in and returns its result once the batch holding it is
// committed. With a negative window every call flushes alone.
func (g *group[T, R]) do(ctx context.Context, in T) (R, error) {
	if g.window < 0 {
		out, err := g.flush(ctx, []T{in})
		if err != nil {
			var zero R
			return zero, err
		}
		return out[0], nil
	}
	c := &call[T, R]{in: in, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if len(g.queue) >= g.max {
		select {
		case g.full <- struct{}{}:
		default:
		}
	}
	lead := !g.leading
	g.leading = g.leading || lead
	g.mu.Unlock()
	if lead {
		g.lead(context.WithoutCancel(ctx))
	}
	<-c.done
	return c.out, c.err
}

// lead commits one batch, then hands leadership to a queued caller.
func (g *group[T, R]) lead(ctx context.Context) {
	if g.window > 0 {
		t := time.NewTimer(g.window)
		select {
		case <-t.C:
		case <-g.full:
		}
		t.Stop()
	}
	g.mu.Lock()
	n := min(len(g.queue), g.max)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	select { // a stale "full" signal must not cut the next window short
	case <-g.full:
	default:
	}
	g.mu.Unlock()
	g.commit(ctx, batch)
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.leading = false
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	go g.lead(ctx) // the next batch is led while this leader's caller returns
}

// commit flushes batch; when a shared flush fails, each item is retried
// alone so that one bad item fails only its own caller.
func (g *group[T, R]) commit(ctx context.Context, batch []*call[T, R]) {
	in := make([]T, len(batch))
	for i, c := range batch {
		in[i] = c.in
	}
	out, err := g.flush(ctx, in)
	if err != nil && len(batch) > 1 {
		for _, c := range batch {
			g.commit(ctx, []*call[T, R]{c})
		}
		return
	}
	for i, c := range batch {
		if err != nil {
			c.err = err
		} else {
			c.out = out[i]
		}
		close(c.done)
	}
}
