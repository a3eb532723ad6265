// Package dashboard computes the figures of the overview (Figures):
// certificate counts by status, the expiry timeline, and the definitions
// and acquisitions to look at; and the week-by-week outlook of the
// timeline command (Weeks). Every figure is counted by the store; only
// the list of stuck processes (open processes unchanged for StuckAfter)
// pages through the open processes, a bounded number of pages.
//
// Certificates certkeeper issued for itself (inventory.Certificate.
// Internal: its web UI, agents, OCSP responders), which it renews on its
// own, are counted nowhere. Expiring30 and the timeline count the same
// certificates: valid leaf certificates at At; Expiring30 those with
// NotAfter before At plus 30 days.
package dashboard

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/acquisition"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Figures of the dashboard.
const (
	// TimelineDays is the length of the timeline in UTC days.
	TimelineDays = 90
	expiringSoon = 30 * 24 * time.Hour
	day          = 24 * time.Hour
)

// Certificates counts certificates; the inventory store is one.
type Certificates interface {
	CountCertificates(ctx context.Context, f inventory.CertificateFilter) (int, error)
	CountCertificatesByStatus(ctx context.Context, f inventory.CertificateFilter) (map[inventory.Status]int, error)
	CountCertificatesByDay(ctx context.Context, f inventory.CertificateFilter, from time.Time, days int) ([]int, error)
}

// Definitions counts definitions; *definitions.Service is one.
type Definitions interface {
	Count(ctx context.Context, f inventory.DefinitionFilter) (int, error)
}

// Acquisitions counts and lists processes; *acquisition.Service is one.
type Acquisitions interface {
	List(ctx context.Context, f inventory.AcquisitionFilter, p inventory.Page) (*inventory.AcquisitionPage, error)
	CountByState(ctx context.Context, f inventory.AcquisitionFilter) (map[inventory.AcquisitionState]int, error)
	CountAttention(ctx context.Context, days int) (int, error)
}

// Service computes the dashboard. Its zero value is not usable; make one
// with New.
type Service struct {
	certs Certificates
	defs  Definitions
	acqs  Acquisitions
	now   func() time.Time
}

// New returns a Service; now nil means time.Now.
func New(certs Certificates, defs Definitions, acqs Acquisitions, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{certs: certs, defs: defs, acqs: acqs, now: now}
}

// Figures are the dashboard's numbers at At.
type Figures struct {
	// At is the time the figures are for, in UTC.
	At time.Time
	// ByStatus counts every certificate (leaf and CA) by status at At.
	ByStatus map[inventory.Status]int
	// Expiring30 is the valid leaf certificates expiring within 30 days.
	Expiring30 int
	// Timeline has TimelineDays entries, one per UTC day from At's on.
	Timeline []Day
	// Definitions counts every definition; OpenAcquisitions the
	// processes under way, PendingApproval those of them waiting for an
	// admin; Attention the definitions acquisition.Service.Attention
	// lists with its default days.
	Definitions, OpenAcquisitions, PendingApproval, Attention int
	// Stuck lists the open processes unchanged for StuckAfter at At;
	// empty, not nil, when there is none.
	Stuck []Stuck
}

// Day is the number of certificates expiring on one UTC day.
type Day struct {
	Date  time.Time
	Count int
}

// Figures reads the dashboard's figures now, concurrently.
func (s *Service) Figures(ctx context.Context) (*Figures, error) {
	at := s.now().UTC()
	out := &Figures{At: at}
	err := concurrently(ctx,
		// The one query reading every row goes first.
		func(ctx context.Context) (err error) {
			out.ByStatus, err = s.certs.CountCertificatesByStatus(ctx, inventory.CertificateFilter{At: at, ExcludeInternal: true})
			return err
		},
		func(ctx context.Context) (err error) { out.Timeline, err = s.timeline(ctx, at); return err },
		func(ctx context.Context) (err error) {
			out.Expiring30, err = s.certs.CountCertificates(ctx, expiringFilter(at))
			return err
		},
		func(ctx context.Context) (err error) {
			out.Definitions, err = s.defs.Count(ctx, inventory.DefinitionFilter{})
			return err
		},
		func(ctx context.Context) error { return s.countProcesses(ctx, out) },
		func(ctx context.Context) (err error) {
			out.Attention, err = s.acqs.CountAttention(ctx, acquisition.DefaultAttentionDays)
			return err
		},
		func(ctx context.Context) (err error) { out.Stuck, err = s.stuck(ctx, at); return err },
	)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// countProcesses fills in the open and pending-approval processes.
func (s *Service) countProcesses(ctx context.Context, out *Figures) error {
	byState, err := s.acqs.CountByState(ctx, inventory.AcquisitionFilter{States: inventory.OpenAcquisitionStates})
	if err != nil {
		return err
	}
	for _, n := range byState {
		out.OpenAcquisitions += n
	}
	out.PendingApproval = byState[inventory.StatePendingApproval]
	return nil
}

// timelineFilter selects what the timeline and Expiring30 count: the
// leaf certificates valid at at that certkeeper did not issue for itself.
func timelineFilter(at time.Time) inventory.CertificateFilter {
	return inventory.CertificateFilter{Status: inventory.StatusValid, At: at, LeafOnly: true, ExcludeInternal: true}
}

// expiringFilter selects the certificates of Expiring30: those of
// timelineFilter with NotAfter before at plus expiringSoon.
func expiringFilter(at time.Time) inventory.CertificateFilter {
	f := timelineFilter(at)
	f.ExpiringBefore = at.Add(expiringSoon)
	return f
}

// timeline counts the certificates of timelineFilter by the UTC day of
// their NotAfter, for the TimelineDays UTC days from at's on, in one
// query.
func (s *Service) timeline(ctx context.Context, at time.Time) ([]Day, error) {
	counts, err := s.certs.CountCertificatesByDay(ctx, timelineFilter(at), at, TimelineDays)
	if err != nil {
		return nil, err
	}
	first := at.UTC().Truncate(day)
	out := make([]Day, TimelineDays)
	for i := range out {
		out[i] = Day{Date: first.AddDate(0, 0, i), Count: counts[i]}
	}
	return out, nil
}

// concurrently runs the jobs at once and returns their errors joined.
func concurrently(ctx context.Context, jobs ...func(context.Context) error) error {
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Go(func() { errs[i] = job(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
