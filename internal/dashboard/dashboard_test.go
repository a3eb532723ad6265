package dashboard

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/acquisition"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// fake answers every count with fixed figures and records the filters.
type fake struct {
	expiring  inventory.CertificateFilter
	states    []inventory.AcquisitionState
	days      int
	errStatus error
}

func (f *fake) CountCertificates(_ context.Context, c inventory.CertificateFilter) (int, error) {
	f.expiring = c
	return 4, nil
}

func (f *fake) CountCertificatesByStatus(context.Context, inventory.CertificateFilter) (map[inventory.Status]int, error) {
	return map[inventory.Status]int{inventory.StatusValid: 10, inventory.StatusRevoked: 1}, f.errStatus
}

func (f *fake) CountCertificatesByDay(_ context.Context, _ inventory.CertificateFilter, _ time.Time, days int) ([]int, error) {
	out := make([]int, days)
	out[1] = 3
	return out, nil
}

func (f *fake) Count(context.Context, inventory.DefinitionFilter) (int, error) { return 7, nil }

func (f *fake) CountByState(_ context.Context, a inventory.AcquisitionFilter) (map[inventory.AcquisitionState]int, error) {
	f.states = a.States
	return map[inventory.AcquisitionState]int{inventory.StateCSRReady: 2, inventory.StatePendingApproval: 1}, nil
}

func (f *fake) List(context.Context, inventory.AcquisitionFilter, inventory.Page) (*inventory.AcquisitionPage, error) {
	return &inventory.AcquisitionPage{}, nil
}

func (f *fake) CountAttention(_ context.Context, days int) (int, error) {
	f.days = days
	return 5, nil
}

func TestFigures(t *testing.T) {
	now := time.Date(2030, 5, 6, 23, 30, 0, 0, time.FixedZone("x", 3600))
	f := &fake{}
	s := New(f, f, f, func() time.Time { return now })
	got, err := s.Figures(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	at := now.UTC()
	if !got.At.Equal(at) || got.At.Location() != time.UTC {
		t.Errorf("At = %v, want %v in UTC", got.At, at)
	}
	if got.Definitions != 7 || got.OpenAcquisitions != 3 || got.PendingApproval != 1 || got.Attention != 5 ||
		got.Expiring30 != 4 || got.ByStatus[inventory.StatusValid] != 10 {
		t.Errorf("figures = %+v", got)
	}
	if len(got.Timeline) != TimelineDays || got.Timeline[1].Count != 3 ||
		!got.Timeline[0].Date.Equal(time.Date(2030, 5, 6, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("timeline starts %+v, want %d days from 2030-05-06 with 3 on the second", got.Timeline[:2], TimelineDays)
	}
	if got.Stuck == nil || len(got.Stuck) != 0 {
		t.Errorf("Stuck = %#v, want empty, not nil", got.Stuck)
	}
	if diff := cmp.Diff(inventory.OpenAcquisitionStates, f.states); diff != "" {
		t.Errorf("states counted (-want +got):\n%s", diff)
	}
	if f.days != acquisition.DefaultAttentionDays || !f.expiring.ExpiringBefore.Equal(at.Add(30*24*time.Hour)) {
		t.Errorf("attention days %d, expiring before %v", f.days, f.expiring.ExpiringBefore)
	}
}

func TestFiguresError(t *testing.T) {
	boom := errors.New("boom")
	f := &fake{errStatus: boom}
	if got, err := New(f, f, f, nil).Figures(context.Background()); !errors.Is(err, boom) || got != nil {
		t.Errorf("Figures = %v, %v; want the error", got, err)
	}
}

// weekCounter answers CountCertificates from fixed expiry times.
type weekCounter []time.Time

func (c weekCounter) CountCertificates(_ context.Context, f inventory.CertificateFilter) (int, error) {
	n := 0
	for _, na := range c {
		if na.Before(f.ExpiringBefore) && (f.NotExpiredAt.IsZero() || !na.Before(f.NotExpiredAt)) {
			n++
		}
	}
	return n, nil
}

func TestWeeks(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := weekCounter{now.Add(-time.Hour), now.Add(time.Hour), now.Add(8 * day), now.Add(9 * day), now.Add(30 * day)}
	got, err := Weeks(context.Background(), c, now, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := &Weekly{Expired: 1, Weeks: []Week{{now, 1}, {now.Add(7 * day), 2}, {now.Add(14 * day), 0}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Weeks (-want +got):\n%s", diff)
	}
}

// weekCerts counts certificates as weekCounter does, for a Service.
type weekCerts struct {
	*fake
	c weekCounter
}

func (w weekCerts) CountCertificates(ctx context.Context, f inventory.CertificateFilter) (int, error) {
	return w.c.CountCertificates(ctx, f)
}

// TestServiceWeeks: the service's outlook starts at its clock's present,
// in UTC.
func TestServiceWeeks(t *testing.T) {
	now := time.Date(2030, 1, 1, 1, 0, 0, 0, time.FixedZone("x", 3600))
	at := now.UTC()
	f := &fake{}
	s := New(weekCerts{f, weekCounter{at.Add(-time.Hour), at.Add(8 * day)}}, f, f, func() time.Time { return now })
	got, err := s.Weeks(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := &Weekly{Expired: 1, Weeks: []Week{{at, 0}, {at.Add(7 * day), 1}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Weeks (-want +got):\n%s", diff)
	}
	if got.Weeks[0].Start.Location() != time.UTC {
		t.Errorf("the outlook starts at %v, want UTC", got.Weeks[0].Start)
	}
}
