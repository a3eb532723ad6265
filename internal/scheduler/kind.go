package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Results of a run, as the read model shows them.
const (
	ResultOK     = "ok"
	ResultFailed = "failed"
)

// Kind is one kind of background work and its schedule: every Every plus
// up to Jitter, or, when Every is zero, daily at DailyAt after midnight in
// Location (UTC when nil).
type Kind struct {
	Name string
	Run  func(ctx context.Context) error
	// PerInstance kinds run on every instance, for what lives in the
	// instance itself (its files, its memory): their job is named
	// Name@Owner and claimed by that instance whether or not it leads.
	// The others are shared: one run per slot, by the leader.
	PerInstance bool

	Every    time.Duration
	Jitter   time.Duration
	DailyAt  time.Duration
	Location *time.Location
	// AtStart runs the kind when the scheduler starts, as well.
	AtStart bool
	// Wake, when set, requests a run at every receive.
	Wake <-chan struct{}
	// Timeout bounds a run (DefaultTimeout); its lease is the
	// scheduler's shorter LeaseTTL, renewed while it runs.
	Timeout time.Duration
	// Backoff is the wait after a first failure, doubled after each
	// further one up to the schedule's interval (DefaultBackoff).
	Backoff time.Duration

	// base is Name as given, before New adds "@Owner" to a PerInstance
	// kind's.
	base string
}

func (k Kind) check() error {
	switch {
	case k.Name == "" || k.Run == nil:
		return errors.New("scheduler: a job kind needs a name and a Run")
	case k.Every < 0 || k.Jitter < 0 || k.DailyAt < 0 || k.DailyAt >= 24*time.Hour:
		return fmt.Errorf("scheduler: job kind %q: bad schedule", k.Name)
	}
	return nil
}

// schedule describes the schedule for people.
func (k Kind) schedule() string {
	var s string
	if k.Every > 0 {
		s = "every " + k.Every.String()
		if k.Jitter > 0 {
			s += " (+ up to " + k.Jitter.String() + ")"
		}
	} else {
		loc := "UTC"
		if k.Location != nil {
			loc = k.Location.String()
		}
		s = fmt.Sprintf("daily at %02d:%02d %s", int(k.DailyAt.Hours()), int(k.DailyAt.Minutes())%60, loc)
	}
	if k.AtStart {
		s += ", and at start"
	}
	if k.PerInstance {
		s += ", on every instance"
	}
	return s
}

// first is the first slot of a new job: one schedule step after now.
func (k Kind) first(now time.Time) time.Time { return k.next(now) }

// next is the slot after a run that finished at t.
func (k Kind) next(t time.Time) time.Time {
	if k.Every > 0 {
		next := t.Add(k.Every)
		if k.Jitter > 0 {
			next = next.Add(rand.N(k.Jitter))
		}
		return next
	}
	loc := k.Location
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	at := day.Add(k.DailyAt)
	if !at.After(t) {
		at = day.AddDate(0, 0, 1).Add(k.DailyAt)
	}
	return at
}

// backoff is the wait before retrying after the attempts-th failure in a
// row: Backoff doubled per failure, capped at the schedule's interval.
func (k Kind) backoff(attempts int) time.Duration {
	b := k.Backoff
	if b <= 0 {
		b = DefaultBackoff
	}
	limit := k.Every
	if limit <= 0 {
		limit = 24 * time.Hour
	}
	for i := 1; i < attempts && b < limit; i++ {
		b *= 2
	}
	return min(b, limit)
}

func (k Kind) timeout() time.Duration {
	if k.Timeout <= 0 {
		return DefaultTimeout
	}
	return k.Timeout
}
