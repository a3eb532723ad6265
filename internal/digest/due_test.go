package digest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/digest"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// runDue runs the scheduled job once and says whether a digest was made
// (sent or quiet).
func (f *fixture) runDue(t *testing.T) *digest.Result {
	t.Helper()
	res, err := f.service.RunDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestDigestDueOncePerDayAfterItsTime: the job makes no digest before the
// configured time, one once it has passed, none again that day, and the
// next one the day after; a changed time takes effect at the next run.
func TestDigestDueOncePerDayAfterItsTime(t *testing.T) {
	f := newFixture(t)
	f.opts.Always = true
	f.opts.Hour, f.opts.Minute = 7, 30
	clock := f.clock
	clock.Advance(15 * time.Minute) // 07:15
	if res := f.runDue(t); res != nil {
		t.Fatalf("07:15, digest due at 07:30: made %+v", res)
	}
	clock.Advance(15 * time.Minute)
	if res := f.runDue(t); res == nil || !res.Sent {
		t.Fatalf("07:30: %+v, want the day's digest sent", res)
	}
	for range 4 * 24 {
		clock.Advance(15 * time.Minute)
		if clock.Now().Day() != 8 {
			break
		}
		if res := f.runDue(t); res != nil {
			t.Fatalf("%s: a second digest the same day", clock.Now())
		}
	}
	if len(f.sent.sent) != 1 {
		t.Fatalf("%d digests on 2026-12-08, want 1", len(f.sent.sent))
	}
	// 2026-12-09 00:00: not before 07:30; moving the time to 06:00 at
	// 06:15 makes it due at once.
	clock.Advance(6*time.Hour + 15*time.Minute)
	if res := f.runDue(t); res != nil {
		t.Fatalf("%s: digest before its time", clock.Now())
	}
	f.opts.Hour, f.opts.Minute = 6, 0
	if res := f.runDue(t); res == nil || !res.Sent {
		t.Fatalf("after the time moved to 06:00: %+v, want the digest", res)
	}
	if got := f.sent.sent[1].Subject; !strings.Contains(got, "2026-12-09") {
		t.Errorf("second digest %q, want 2026-12-09's", got)
	}
	// Moving the time later the same day does not make a second one.
	f.opts.Hour, f.opts.Minute = 23, 0
	clock.Advance(17 * time.Hour)
	if res := f.runDue(t); res != nil || len(f.sent.sent) != 2 {
		t.Fatalf("23:15 after the time moved: %+v, %d digests; want no second digest", res, len(f.sent.sent))
	}
}

// TestDigestDueQuietDayCountsAsMade: a quiet day sends nothing but is the
// day's digest all the same; the next day starts from it.
func TestDigestDueQuietDayCountsAsMade(t *testing.T) {
	f := newFixture(t)
	f.opts.Hour = 7
	if res := f.runDue(t); res == nil || res.Sent || len(f.sent.sent) != 0 {
		t.Fatalf("quiet day: %+v, %d sent; want made, not sent", res, len(f.sent.sent))
	}
	f.clock.Advance(time.Hour)
	f.alerts = []digest.Alert{{ID: 1, Severity: inventory.SeverityCritical, Subject: "x:443", Summary: "expired"}}
	if res := f.runDue(t); res != nil {
		t.Fatalf("an alert later on a quiet day made a second digest: %+v", res)
	}
	f.clock.Advance(23 * time.Hour)
	if res := f.runDue(t); res == nil || !res.Sent {
		t.Fatalf("next day with an open alert: %+v, want sent", res)
	}
}

// TestDigestSendNowIsAuditedAndPreviewChangesNothing: a preview changes no
// state; a requested send is audited, is not the day's scheduled digest,
// and its own audit event is not a change in the next digest.
func TestDigestSendNowIsAuditedAndPreviewChangesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.opts.Hour = 8
	f.alerts = []digest.Alert{{ID: 1, Severity: inventory.SeverityWarning, Subject: "x:443", Summary: "expires in 9 days"}}
	d, err := f.service.Preview(ctx)
	if err != nil || d.NeedCount() != 1 || len(f.sent.sent) != 0 {
		t.Fatalf("Preview = %+v, %v, %d sent", d, err, len(f.sent.sent))
	}
	if _, err := f.st.GetSetting(ctx, "digest.last"); err == nil {
		t.Error("a preview recorded a digest")
	}
	res, err := f.service.SendNow(ctx, "user:ana")
	if err != nil || !res.Sent {
		t.Fatalf("SendNow = %+v, %v", res, err)
	}
	events, _, _ := f.st.ListAudit(ctx, time.Time{}, inventory.Page{Limit: 10})
	if len(events) != 1 || events[0].Action != "digest.send" || events[0].Actor != "user:ana" ||
		!strings.HasPrefix(events[0].Summary, "sent: ") {
		t.Fatalf("audit = %+v; want one digest.send by user:ana", events)
	}
	f.clock.Advance(time.Hour)
	f.alerts = nil
	res, err = f.service.RunDue(ctx)
	if err != nil || res == nil || res.Sent || res.Digest.ChangeCount() != 0 {
		t.Fatalf("scheduled digest after a requested one = %+v, %v; want made, quiet", res, err)
	}
}

// TestDigestDueFailedDeliveryIsNotRepeated: a delivery that fails is the
// job's error, but the day's digest counts as made: the job's retry does
// not send it again.
func TestDigestDueFailedDeliveryIsNotRepeated(t *testing.T) {
	f := newFixture(t)
	f.sent.fail = errors.New("notify: channel ops: HTTP 500")
	f.alerts = []digest.Alert{{ID: 1, Severity: inventory.SeverityCritical, Subject: "x:443", Summary: "expired"}}
	res, err := f.service.RunDue(context.Background())
	if !errors.Is(err, f.sent.fail) || res == nil || res.Sent || !strings.Contains(res.Reason, "delivery failed") {
		t.Fatalf("RunDue with a failing delivery = %+v, %v; want the failure", res, err)
	}
	f.clock.Advance(15 * time.Minute)
	if res := f.runDue(t); res != nil || len(f.sent.sent) != 1 {
		t.Fatalf("the retry sent again: %+v, %d deliveries", res, len(f.sent.sent))
	}
}
