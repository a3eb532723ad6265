package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// DefaultCheckInterval is how often a Refresher looks for due CRLs.
const DefaultCheckInterval = time.Minute

// Refresher keeps every CA's CRL and OCSP responder certificate current:
// on each tick it replaces CRLs older than Config.CRLRefresh (so a CRL is
// replaced well before its nextUpdate, RFC 5280 section 5.1.2.5) and
// renews responder certificates with less than a third of their life
// left; a revocation whose own CRL refresh failed wakes it at once.
//
// Due CRLs are judged by the latest CRL stored in the inventory, so when
// several instances share one (PostgreSQL) they take turns rather than
// each publishing its own; should two refresh at the same moment, the
// higher CRL number wins and both CRLs are valid.
type Refresher struct {
	svc   *Service
	ticks <-chan time.Time
	log   *slog.Logger
}

// NewRefresher returns a Refresher for svc's CAs. ticks delivers the
// moments to look for due work; nil means every DefaultCheckInterval.
// Which CRLs are due is judged by svc's clock, not by the ticks' times.
func NewRefresher(svc *Service, ticks <-chan time.Time, log *slog.Logger) *Refresher {
	return &Refresher{svc: svc, ticks: ticks, log: log}
}

// Run refreshes at once, then on every tick and after every failed
// post-revocation refresh, until ctx is cancelled; then it returns nil.
// Failures are logged and retried on the next tick.
func (r *Refresher) Run(ctx context.Context) error {
	ticks := r.ticks
	if ticks == nil {
		t := time.NewTicker(DefaultCheckInterval)
		defer t.Stop()
		ticks = t.C
	}
	for {
		if err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("CRL refresh failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticks:
		case <-r.svc.kick:
		}
	}
}

// Wake delivers a value whenever a refresh after a revocation failed, for
// a scheduler that runs RunOnce instead of Run: it should run RunOnce at
// once. Use Wake or Run, not both.
func (r *Refresher) Wake() <-chan struct{} { return r.svc.kick }

// RunOnce refreshes every due CRL and stale responder certificate once.
// It goes on past a CA that fails and returns the errors joined.
func (r *Refresher) RunOnce(ctx context.Context) error {
	cas, err := r.svc.st.ListCAs(ctx)
	if err != nil {
		return fmt.Errorf("revocation: refresher: %w", err)
	}
	var errs []error
	for i := range cas {
		c := &cas[i]
		if c.CertificateID == 0 || c.Status == inventory.CAPending {
			continue
		}
		if err := r.refreshCA(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (r *Refresher) refreshCA(ctx context.Context, c *inventory.CA) error {
	due, err := r.svc.crlDue(ctx, c.ID)
	if err != nil {
		return err
	}
	if due {
		crl, err := r.svc.RefreshCRL(ctx, c.ID)
		if err != nil {
			return err
		}
		r.log.Info("CRL published", "ca", c.Name, "number", crl.Number, "next_update", crl.NextUpdate)
	}
	if c.Status != inventory.CAActive {
		return nil
	}
	info, err := r.svc.caInfo(ctx, c.ID)
	if err != nil {
		return err
	}
	_, err = r.svc.responder(ctx, info)
	return err
}

// crlDue reports whether the CA has no CRL, its latest CRL is older than
// Config.CRLRefresh, or a refresh after a revocation failed.
func (s *Service) crlDue(ctx context.Context, caID int64) (bool, error) {
	if s.isPending(caID) {
		return true, nil
	}
	crl, err := s.st.LatestCRL(ctx, caID)
	if errors.Is(err, inventory.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("revocation: CA %d: %w", caID, err)
	}
	return !s.now().Before(crl.ThisUpdate.Add(s.cfg.CRLRefresh)), nil
}
