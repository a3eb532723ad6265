package monitor

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// maxRecordBatch bounds the results written in one transaction.
const maxRecordBatch = 250

// recording is the result of todo[i], on its way to the store.
type recording struct {
	i   int
	rec inventory.EndpointRecord
}

// recorder writes a run's results as its checks finish, in few
// transactions: the results that arrive while one transaction is written
// go together in the next (up to maxRecordBatch), so that a lone check
// is written at once and a busy pass shares one transaction among
// hundreds. A result is recorded even when the run is cut short after
// its check finished. When the store refuses a batch, its results are
// written one by one, so that one bad result loses no other.
type recorder struct {
	s     *Service
	ctx   context.Context
	todo  []inventory.Endpoint
	errs  []error
	tally *tally
	in    chan recording
	done  chan struct{}
}

// startRecorder starts recording results of todo; a failure to record
// todo[i]'s is put in errs[i].
func (s *Service) startRecorder(ctx context.Context, todo []inventory.Endpoint, errs []error, t *tally) *recorder {
	r := &recorder{s: s, ctx: context.WithoutCancel(ctx), todo: todo, errs: errs, tally: t,
		in: make(chan recording, maxRecordBatch), done: make(chan struct{})}
	go r.loop()
	return r
}

// add hands the result of todo[i] over to be recorded.
func (r *recorder) add(i int, rec inventory.EndpointRecord) { r.in <- recording{i: i, rec: rec} }

// finish waits until every result added is recorded. No add may follow.
func (r *recorder) finish() {
	close(r.in)
	<-r.done
}

func (r *recorder) loop() {
	defer close(r.done)
	for first := range r.in {
		r.write(r.drain([]recording{first}))
	}
}

// drain adds to batch the results already waiting, up to maxRecordBatch.
func (r *recorder) drain(batch []recording) []recording {
	for len(batch) < maxRecordBatch {
		select {
		case next, ok := <-r.in:
			if !ok {
				return batch
			}
			batch = append(batch, next)
		default:
			return batch
		}
	}
	return batch
}

func (r *recorder) write(batch []recording) {
	recs := make([]inventory.EndpointRecord, len(batch))
	for i, b := range batch {
		recs[i] = b.rec
	}
	if _, err := r.s.store.RecordEndpointResults(r.ctx, recs); err != nil {
		r.s.c.Log.Warn("monitor: recording a batch of results failed; recording them one by one", "results", len(batch), "error", err)
		for _, b := range batch {
			r.settle(b, r.s.store.RecordEndpointResult(r.ctx, b.rec.Result, b.rec.Next))
		}
		return
	}
	for _, b := range batch {
		r.settle(b, nil)
	}
}

// settle sets a recorded result as its endpoint's latest, or notes why it
// was not recorded. An endpoint removed while checked is left as it was.
func (r *recorder) settle(b recording, err error) {
	defer r.tally.add()
	e := &r.todo[b.i]
	switch {
	case errors.Is(err, inventory.ErrNotFound) || (err == nil && b.rec.Result.ID == 0):
		return // removed while checked
	case err != nil:
		r.s.c.Log.Warn("monitor: recording a result failed", "endpoint", e.ID, "error", err)
		r.errs[b.i] = fmt.Errorf("monitor: endpoint %d: %w", e.ID, err)
		return
	}
	e.Last, e.NextCheckAt = b.rec.Result, b.rec.Next
	if b.rec.Result.Check.Error != "" {
		e.Failures++
	} else {
		e.Failures = 0
	}
}

// tally counts a run's finished checks for its Progress.
type tally struct {
	mu          sync.Mutex
	done, total int
	progress    Progress
}

func (t *tally) add() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done++
	if t.progress != nil {
		t.progress(t.done, t.total)
	}
}
