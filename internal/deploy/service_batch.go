package deploy

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
)

// batcher gives the sites of one server (see serverKey) their turns: the
// installs queued for a server while it is busy are applied together as
// one group (one test, one reload: engine.ApplyGroup), and a roll back runs
// alone. The goroutine at the head of a server's queue does the work and
// hands the turn to the next head when its own item is done.
type batcher struct {
	mu      sync.Mutex
	servers map[string]*serverQueue
}

type serverQueue struct {
	items []*batchItem
	busy  bool
}

// batchItem is an install (plan set) or a job to run alone (alone set).
type batchItem struct {
	h     engine.Host
	plan  engine.Plan
	now   time.Time
	alone func()

	rep  *engine.InstallReport
	err  error
	done chan struct{}
	lead chan struct{}
}

func newBatcher() *batcher { return &batcher{servers: map[string]*serverQueue{}} }

// turns returns the engine.Turns of an install to server key through host h.
func (b *batcher) turns(key string, h engine.Host) engine.Turns {
	return batchTurns{b: b, key: key, h: h}
}

type batchTurns struct {
	b   *batcher
	key string
	h   engine.Host
}

func (t batchTurns) Install(_ context.Context, p engine.Plan, now time.Time) (*engine.InstallReport, error) {
	it := &batchItem{h: t.h, plan: p, now: now}
	t.b.submit(t.key, it)
	return it.rep, it.err
}

func (t batchTurns) Alone(fn func()) { t.b.submit(t.key, &batchItem{alone: fn}) }

// submit queues it and returns once it is done, doing the server's work
// whenever the turn comes to it.
func (b *batcher) submit(key string, it *batchItem) {
	it.done, it.lead = make(chan struct{}), make(chan struct{})
	b.mu.Lock()
	q := b.servers[key]
	if q == nil {
		q = &serverQueue{}
		b.servers[key] = q
	}
	q.items = append(q.items, it)
	if !q.busy {
		q.busy = true
		close(it.lead)
	}
	b.mu.Unlock()
	for {
		select {
		case <-it.done:
			return
		case <-it.lead:
			it.lead = nil
			b.runHead(key, q)
		}
	}
}

// runHead runs the batch at the head of q (which holds the caller's
// item), then passes the turn on.
func (b *batcher) runHead(key string, q *serverQueue) {
	b.mu.Lock()
	batch := q.take()
	b.mu.Unlock()
	runBatch(batch)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(q.items) > 0 {
		close(q.items[0].lead)
		return
	}
	q.busy = false
	delete(b.servers, key)
}

// take removes the head's batch: a job to run alone, or every install up
// to the next such job.
func (q *serverQueue) take() []*batchItem {
	n := 1
	if q.items[0].alone == nil {
		for n < len(q.items) && q.items[n].alone == nil {
			n++
		}
	}
	batch := q.items[:n:n]
	q.items = q.items[n:]
	return batch
}

// runBatch does a batch and marks every item done, even when the work
// panics.
func runBatch(batch []*batchItem) {
	defer func() {
		r := recover()
		for _, it := range batch {
			if r != nil && it.err == nil && it.rep == nil && it.alone == nil {
				it.err = fmt.Errorf("deploy: internal error: %v", r)
			}
			close(it.done)
		}
	}()
	if batch[0].alone != nil {
		batch[0].alone()
		return
	}
	plans := make([]engine.Plan, len(batch))
	for i, it := range batch {
		plans[i] = it.plan
	}
	// The first item's host and clock serve the group: its sites share
	// the host by the server key. The work is not cut short when the
	// caller of the first item goes away: the others wait for it.
	reps, errs := engine.ApplyGroup(context.Background(), batch[0].h, plans, batch[0].now)
	for i, it := range batch {
		it.rep, it.err = reps[i], errs[i]
	}
}
