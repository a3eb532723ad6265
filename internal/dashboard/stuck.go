package dashboard

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Stuck processes.
const (
	// StuckAfter is how long an open process may go unchanged before the
	// dashboard lists it.
	StuckAfter = 14 * day
	// stuckPages caps the pages of open processes read, stuckPageSize
	// their size: the list is a reminder, not a report.
	stuckPages    = 10
	stuckPageSize = 100
)

// Stuck is an open process that has not moved for StuckAfter.
type Stuck struct {
	Acquisition inventory.Acquisition
	// Since is when it last moved: its order date once ordered, else
	// its last change. Days is the whole days from Since to the
	// figures' time.
	Since time.Time
	Days  int
	// Reason says in a few words what it waits for.
	Reason string
}

// stuck returns the open processes unchanged for StuckAfter at at, in the
// order the acquisition service lists them, reading at most stuckPages
// pages.
func (s *Service) stuck(ctx context.Context, at time.Time) ([]Stuck, error) {
	out := []Stuck{}
	f := inventory.AcquisitionFilter{States: inventory.OpenAcquisitionStates}
	p := inventory.Page{Limit: stuckPageSize}
	for range stuckPages {
		l, err := s.acqs.List(ctx, f, p)
		if err != nil {
			return nil, err
		}
		for _, a := range l.Items {
			if st, ok := stuckAt(a, at); ok {
				out = append(out, st)
			}
		}
		if l.Next == "" {
			break
		}
		p.After = l.Next
	}
	return out, nil
}

// stuckAt says whether process a is stuck at at, and how.
func stuckAt(a inventory.Acquisition, at time.Time) (Stuck, bool) {
	since := a.UpdatedAt
	if a.State == inventory.StateOrdered && a.Order != nil && !a.Order.Date.IsZero() {
		since = a.Order.Date
	}
	if at.Sub(since) < StuckAfter {
		return Stuck{}, false
	}
	days := int(math.Floor(at.Sub(since).Hours() / 24))
	return Stuck{Acquisition: a, Since: since.UTC(), Days: days, Reason: stuckReason(a.State, days)}, true
}

// stuckReason words what a process in state st has waited days for.
func stuckReason(st inventory.AcquisitionState, days int) string {
	switch st {
	case inventory.StateCSRReady:
		return fmt.Sprintf("request ready for %d days, not ordered or issued", days)
	case inventory.StateOrdered:
		return fmt.Sprintf("ordered %d days ago, no certificate received", days)
	case inventory.StateIssued:
		return fmt.Sprintf("certificate received %d days ago, not switched to", days)
	}
	return fmt.Sprintf("unchanged for %d days", days)
}

// Stuck returns the open processes that have not moved for
// StuckAfter or more at the service's time, as the figures list them.
func (s *Service) Stuck(ctx context.Context) ([]Stuck, error) {
	return s.stuck(ctx, s.now())
}
