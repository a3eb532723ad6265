// Package scheduler runs certkeeper's background work as durable jobs in
// the inventory: one job per kind, due at a slot (interval with jitter, or
// a daily time), claimed under a short lease renewed while it runs, so
// that one run serves each slot even when several instances share a
// PostgreSQL inventory, retried with backoff after a failure, and
// runnable at once by an Admin. One instance leads (a lease in the
// inventory) and runs the shared kinds; per-instance kinds run on every
// instance. Every run is kept in a bounded history, one row per slot.
package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Errors of the scheduler. ErrUnknownKind, for a job neither run here
// nor in the inventory, is an inventory.ErrNotFound; ErrNotRunning is
// returned by a stand-in for a scheduler this process does not run.
var (
	ErrUnknownKind = fmt.Errorf("scheduler: unknown job kind (%w)", inventory.ErrNotFound)
	ErrNotRunning  = errors.New("scheduler: not running in this process (certkeeper serve runs it)")
)

// Defaults of Config.
const (
	DefaultPoll     = 5 * time.Second
	DefaultTimeout  = 10 * time.Minute
	DefaultBackoff  = 5 * time.Second
	DefaultLeaseTTL = 15 * time.Second
)

// Config configures a Scheduler. Zero fields take the defaults.
type Config struct {
	// Owner names this instance in leases, in the history and in its
	// per-instance jobs; a random name when empty. It should stay the
	// same across restarts of an instance.
	Owner string
	// Poll is how often due jobs are looked for (DefaultPoll).
	Poll time.Duration
	// LeaseTTL is how long the leader lease and a running job's lease
	// last unless renewed (DefaultLeaseTTL; at least two seconds, as the
	// inventory keeps whole seconds); they are renewed every third of it
	// (or every Poll when shorter), so an instance that dies is replaced
	// within about LeaseTTL plus a third.
	LeaseTTL time.Duration
	// Now is the clock that judges slots and leases (time.Now).
	Now func() time.Time
}

// Scheduler runs the kinds it was built with. It is safe for concurrent
// use; Run is called once.
type Scheduler struct {
	st    inventory.JobStore
	kinds []Kind
	cfg   Config
	log   *slog.Logger
	wake  chan struct{}

	// leaseUntil is the end of this instance's leader lease (unix nanos),
	// 0 when it does not lead.
	leaseUntil atomic.Int64

	mu      sync.Mutex
	running map[string]bool
	polls   int
	totals  map[RunTotal]uint64
}

// New returns a Scheduler of kinds over st. Kind names must be unique.
func New(st inventory.JobStore, kinds []Kind, cfg Config, log *slog.Logger) (*Scheduler, error) {
	cfg = cfg.withDefaults()
	seen := map[string]bool{}
	named := make([]Kind, 0, len(kinds))
	for _, k := range kinds {
		if err := k.check(); err != nil {
			return nil, err
		}
		if seen[k.Name] {
			return nil, fmt.Errorf("scheduler: job kind %q twice", k.Name)
		}
		seen[k.Name] = true
		k.base = k.Name
		if k.PerInstance {
			k.Name += "@" + cfg.Owner
		}
		named = append(named, k)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{st: st, kinds: named, cfg: cfg, log: log, wake: make(chan struct{}, 1),
		running: map[string]bool{}, totals: map[RunTotal]uint64{}}, nil
}

func (cfg Config) withDefaults() Config {
	if cfg.Owner == "" {
		cfg.Owner = randomOwner()
	}
	if cfg.Poll <= 0 {
		cfg.Poll = DefaultPoll
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = DefaultLeaseTTL
	}
	cfg.LeaseTTL = max(cfg.LeaseTTL, 2*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// Owner returns the name of this instance.
func (s *Scheduler) Owner() string { return s.cfg.Owner }

func randomOwner() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Run adds the missing jobs, requests the AtStart kinds, then runs due
// jobs until ctx is cancelled; it waits for running jobs (whose context
// it cancels) and returns nil, or the error that kept it from starting.
func (s *Scheduler) Run(ctx context.Context) error {
	if err := s.start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer s.resign()
	var wg sync.WaitGroup
	defer wg.Wait()
	s.lead(ctx)
	wg.Go(func() { s.leadLoop(ctx) })
	for _, k := range s.kinds {
		if k.Wake != nil {
			wg.Go(func() { s.forward(ctx, k) })
		}
	}
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		s.poll(ctx, &wg)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

// start adds the missing jobs and requests the AtStart kinds.
func (s *Scheduler) start(ctx context.Context) error {
	now := s.cfg.Now()
	for _, k := range s.kinds {
		if err := s.st.EnsureJob(ctx, k.Name, k.first(now)); err != nil {
			return fmt.Errorf("scheduler: %w", err)
		}
		if k.AtStart {
			if err := s.st.RequestJob(ctx, k.Name, now); err != nil {
				return fmt.Errorf("scheduler: %w", err)
			}
		}
	}
	return nil
}

// forward turns every receive on k.Wake into a run-now request.
func (s *Scheduler) forward(ctx context.Context, k Kind) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-k.Wake:
			if err := s.RunNow(ctx, k.Name); err != nil && ctx.Err() == nil {
				s.log.Warn("requesting job", "kind", k.Name, "err", err)
			}
		}
	}
}

// RunNow asks for a run of kind at once (adding its job when Run has not
// yet): the leader (for a shared kind) or the kind's instance (for a
// per-instance one, which may be another instance's) starts it at its
// next poll, at once when that is this instance; a running job runs again
// after. A kind neither run here nor in the inventory is ErrUnknownKind.
func (s *Scheduler) RunNow(ctx context.Context, kind string) error {
	now := s.cfg.Now()
	if k, ok := s.kind(kind); ok {
		if err := s.st.EnsureJob(ctx, kind, k.first(now)); err != nil {
			return fmt.Errorf("scheduler: %w", err)
		}
	}
	if err := s.st.RequestJob(ctx, kind, now); errors.Is(err, inventory.ErrNotFound) {
		return fmt.Errorf("%w: %q", ErrUnknownKind, kind)
	} else if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	s.kick()
	return nil
}

// auditTx is an inventory that writes a change and its audit event in
// one transaction.
type auditTx interface {
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// RequestRun is RunNow on a person's behalf: the request and its audit
// event ("job.run", by actor) are written in one transaction.
func (s *Scheduler) RequestRun(ctx context.Context, actor, kind string) error {
	inv, ok := s.st.(auditTx)
	if !ok {
		return errors.New("scheduler: the inventory keeps no audit trail")
	}
	now := s.cfg.Now()
	if k, ok := s.kind(kind); ok {
		if err := s.st.EnsureJob(ctx, kind, k.first(now)); err != nil {
			return fmt.Errorf("scheduler: %w", err)
		}
	}
	err := inv.InTx(ctx, func(tx inventory.Store) error {
		jobs, ok := tx.(inventory.JobStore)
		if !ok {
			return errors.New("scheduler: the inventory keeps no jobs")
		}
		if err := jobs.RequestJob(ctx, kind, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &inventory.AuditEvent{Time: now.UTC(), Actor: actor, Action: "job.run",
			Object: inventory.ObjectName(inventory.KindJob, kind), Summary: "run requested"})
	})
	if errors.Is(err, inventory.ErrNotFound) {
		return fmt.Errorf("%w: %q", ErrUnknownKind, kind)
	} else if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	s.kick()
	return nil
}

func (s *Scheduler) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Scheduler) kind(name string) (Kind, bool) {
	for _, k := range s.kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}
