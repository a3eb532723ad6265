package monitor

import (
	"context"
	"crypto/x509"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/check"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/probe"
	"github.com/certkeeper/certkeeper/internal/settings"
)

// maxDuePerPass bounds the endpoints one pass checks; the rest stay due
// for the next pass.
const maxDuePerPass = 10000

// Progress is told how many of the endpoints a run has checked.
type Progress func(done, total int)

// Pass syncs the endpoints of deployments, checks every due endpoint,
// prunes the history past the retention and, when it checked any,
// calls Config.AfterPass. It
// is the scheduler's "monitor" job.
func (s *Service) Pass(ctx context.Context) error {
	m, err := s.monitoring(ctx)
	if err != nil {
		return err
	}
	syncErr := s.Sync(ctx)
	due, err := s.store.DueEndpoints(ctx, s.c.Now(), maxDuePerPass)
	if err != nil {
		return errors.Join(syncErr, err)
	}
	_, checkErr := s.checkAll(ctx, due, m, nil)
	_, pruneErr := s.store.PruneEndpointResults(ctx, s.c.Now().AddDate(0, 0, -m.RetentionDays))
	if len(due) > 0 {
		s.after(ctx)
	}
	return errors.Join(syncErr, checkErr, pruneErr)
}

// RunNow checks the endpoints ids (every endpoint when none) at once,
// whatever their due time, and returns them with their new results.
// progress, when set, is told of every finished check.
func (s *Service) RunNow(ctx context.Context, ids []int64, progress Progress) ([]inventory.Endpoint, error) {
	m, err := s.monitoring(ctx)
	if err != nil {
		return nil, err
	}
	var todo []inventory.Endpoint
	if len(ids) == 0 {
		if err := s.Sync(ctx); err != nil {
			return nil, err
		}
		if todo, err = s.store.AllEndpoints(ctx); err != nil {
			return nil, err
		}
	}
	for _, id := range ids {
		e, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		todo = append(todo, *e)
	}
	out, err := s.checkAll(ctx, todo, m, progress)
	s.after(ctx)
	return out, err
}

func (s *Service) after(ctx context.Context) {
	if s.c.AfterPass != nil {
		s.c.AfterPass(ctx)
	}
}

// checkAll checks the endpoints, at most m.Concurrency at once, and
// returns them with their results in the order given. The results are
// recorded as the checks finish, many to a transaction (see recorder).
func (s *Service) checkAll(ctx context.Context, todo []inventory.Endpoint, m settings.Monitoring, progress Progress) ([]inventory.Endpoint, error) {
	if len(todo) == 0 {
		return todo, nil
	}
	rn := s.newRun(ctx)
	errs := make([]error, len(todo))
	t := &tally{total: len(todo), progress: progress}
	rec := s.startRecorder(ctx, todo, errs, t)
	sem := make(chan struct{}, max(m.Concurrency, 1))
	var wg sync.WaitGroup
	for i := range todo {
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			r, err := s.checkOne(ctx, rn, &todo[i])
			if err != nil {
				errs[i] = err
				t.add()
				return
			}
			rec.add(i, inventory.EndpointRecord{Result: r, Next: s.nextCheck(todo[i].Interval, s.c.Now(), m)})
		})
	}
	wg.Wait()
	rec.finish()
	return todo, errors.Join(errs...)
}

// checkOne checks e and returns the result to record. A check that
// cannot be prepared (the expected certificate is gone) gives a failed
// result saying why. A check cut short because ctx ended (the pass ran
// out of time) gives ctx's error: nothing is recorded, the endpoint
// stays due.
func (s *Service) checkOne(ctx context.Context, rn *run, e *inventory.Endpoint) (*inventory.EndpointResult, error) {
	r := s.observe(ctx, rn, e)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.EndpointID = e.ID
	return r, nil
}

// observe makes one check of e.
func (s *Service) observe(ctx context.Context, rn *run, e *inventory.Endpoint) *inventory.EndpointResult {
	spec := specOf(e)
	o, want, err := s.prepare(ctx, rn, e)
	if err != nil {
		return &inventory.EndpointResult{Check: *check.Unobserved(e.Address, e.ServerName, engine.OneLine(err.Error()),
			want, s.c.Now())}
	}
	res, chain := check.RunChain(ctx, spec, want, o)
	return resultOf(res, chain)
}

// prepare builds the check options and expectation of e.
func (s *Service) prepare(ctx context.Context, rn *run, e *inventory.Endpoint) (check.Options, engine.Want, error) {
	o := check.Options{Timeout: s.c.CheckTimeout, Now: s.c.Now, Outbound: s.c.Outbound,
		StartTLS: probe.StartTLS(e.StartTLS), AnyLeaf: e.Source == inventory.EndpointManual}
	certID, err := s.expectedCertificate(ctx, e)
	if err != nil {
		return o, engine.Want{}, err
	}
	want, err := rn.want(ctx, s, certID)
	if err != nil {
		return o, want, err
	}
	o.ClientCertificate, err = s.clientCertificate(ctx, e.ClientCertificateID)
	return o, want, err
}

// resultOf completes a check result with what the served chain says.
func resultOf(c *inventory.CheckResult, chain []*x509.Certificate) *inventory.EndpointResult {
	r := &inventory.EndpointResult{Check: *c}
	if len(chain) == 0 {
		return r
	}
	leaf := chain[0]
	r.LeafNotAfter, r.LeafLifetime = leaf.NotAfter.UTC(), leaf.NotAfter.Sub(leaf.NotBefore)
	r.ChainNotAfter = leaf.NotAfter.UTC()
	for _, cert := range chain {
		r.ChainSHA256 = append(r.ChainSHA256, inventory.SHA256Hex(cert.Raw))
		if cert.NotAfter.Before(r.ChainNotAfter) {
			r.ChainNotAfter = cert.NotAfter.UTC()
		}
	}
	r.ChainDaysLeft = daysUntil(c.Time, r.ChainNotAfter)
	r.NotYetValid = c.Time.Before(leaf.NotBefore)
	return r
}

// daysUntil is the whole days from now to t, rounded down (negative
// once t is past), as the deploy check counts them.
func daysUntil(now, t time.Time) int {
	return int(math.Floor(t.Sub(now).Hours() / 24))
}
