package dashboard

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// processes pages through fixed processes two at a time and records the
// filters and pages asked for.
type processes struct {
	fake
	items  []inventory.Acquisition
	filter inventory.AcquisitionFilter
	pages  []inventory.Page
	err    error
}

func (p *processes) List(_ context.Context, f inventory.AcquisitionFilter, pg inventory.Page) (*inventory.AcquisitionPage, error) {
	p.filter = f
	p.pages = append(p.pages, pg)
	if p.err != nil {
		return nil, p.err
	}
	start := 0
	if pg.After != "" {
		start = int(pg.After[0] - '0')
	}
	end := min(start+2, len(p.items))
	out := &inventory.AcquisitionPage{Items: p.items[start:end]}
	if end < len(p.items) {
		out.Next = string(rune('0' + end))
	}
	return out, nil
}

func TestStuck(t *testing.T) {
	now := time.Date(2030, 5, 20, 12, 0, 0, 0, time.UTC)
	ago := func(days int) time.Time { return now.Add(-time.Duration(days) * day) }
	p := &processes{items: []inventory.Acquisition{
		{ID: 1, State: inventory.StateCSRReady, UpdatedAt: ago(20)},
		{ID: 2, State: inventory.StateCSRReady, UpdatedAt: ago(13)},
		{ID: 3, State: inventory.StateOrdered, UpdatedAt: ago(1), Order: &inventory.Order{Date: ago(30)}},
		{ID: 4, State: inventory.StateOrdered, UpdatedAt: ago(15), Order: &inventory.Order{}},
		{ID: 5, State: inventory.StateIssued, UpdatedAt: ago(14)},
		{ID: 6, State: inventory.StatePendingApproval, UpdatedAt: ago(40).Add(-time.Hour)},
	}}
	got, err := New(p, p, p, func() time.Time { return now }).Figures(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []Stuck{
		{Acquisition: p.items[0], Since: ago(20), Days: 20, Reason: "request ready for 20 days, not ordered or issued"},
		{Acquisition: p.items[2], Since: ago(30), Days: 30, Reason: "ordered 30 days ago, no certificate received"},
		{Acquisition: p.items[3], Since: ago(15), Days: 15, Reason: "ordered 15 days ago, no certificate received"},
		{Acquisition: p.items[4], Since: ago(14), Days: 14, Reason: "certificate received 14 days ago, not switched to"},
		{Acquisition: p.items[5], Since: ago(40).Add(-time.Hour), Days: 40, Reason: "unchanged for 40 days"},
	}
	if diff := cmp.Diff(want, got.Stuck); diff != "" {
		t.Errorf("Stuck (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(inventory.OpenAcquisitionStates, p.filter.States); diff != "" {
		t.Errorf("states listed (-want +got):\n%s", diff)
	}
	wantPages := []inventory.Page{{Limit: stuckPageSize}, {Limit: stuckPageSize, After: "2"}, {Limit: stuckPageSize, After: "4"}}
	if diff := cmp.Diff(wantPages, p.pages); diff != "" {
		t.Errorf("pages read (-want +got):\n%s", diff)
	}
}

func TestStuckPagesCapped(t *testing.T) {
	never := &endless{}
	if _, err := New(never, never, never, nil).stuck(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if never.calls != stuckPages {
		t.Errorf("read %d pages, want the cap %d", never.calls, stuckPages)
	}
}

// endless always has a next page.
type endless struct {
	fake
	calls int
}

func (e *endless) List(context.Context, inventory.AcquisitionFilter, inventory.Page) (*inventory.AcquisitionPage, error) {
	e.calls++
	return &inventory.AcquisitionPage{Next: "more"}, nil
}

func TestStuckError(t *testing.T) {
	boom := errors.New("boom")
	p := &processes{err: boom}
	if got, err := New(p, p, p, nil).Figures(context.Background()); !errors.Is(err, boom) || got != nil {
		t.Errorf("Figures = %v, %v; want the error", got, err)
	}
}
