package digest_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/dashboard"
	"github.com/certkeeper/certkeeper/internal/digest"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// notices records what the digest sends.
type notices struct {
	sent []inventory.Notice
	// fail, when set, is what every delivery returns.
	fail error
}

func (n *notices) Notify(_ context.Context, x inventory.Notice) error {
	n.sent = append(n.sent, x)
	return n.fail
}

type fixture struct {
	st      inventory.Store
	clock   *testenv.Clock
	sent    *notices
	opts    digest.Options
	alerts  []digest.Alert
	points  []inventory.Endpoint
	stuck   []dashboard.Stuck
	service *digest.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, clock: testenv.NewClock(time.Date(2026, 12, 8, 7, 0, 0, 0, time.UTC)), sent: &notices{},
		opts: digest.Options{Emails: []string{"pki@example.test"}, BaseURL: "https://ck.example.test"}}
	f.service = digest.New(st, digest.Sources{
		Options:   func(context.Context) (digest.Options, error) { return f.opts, nil },
		Alerts:    func(context.Context) ([]digest.Alert, error) { return f.alerts, nil },
		Endpoints: func(context.Context) ([]inventory.Endpoint, error) { return f.points, nil },
		Stuck:     func(context.Context) ([]dashboard.Stuck, error) { return f.stuck, nil },
	}, f.sent, f.clock.Now)
	return f
}

func (f *fixture) audit(t *testing.T, at time.Time, action, summary string) {
	t.Helper()
	e := &inventory.AuditEvent{Time: at, Actor: "user:ana", Action: action, Object: "certificate:1", Summary: summary}
	if err := f.st.AppendAudit(context.Background(), e); err != nil {
		t.Fatal(err)
	}
}

func TestDigestQuietDaySendsNothing(t *testing.T) {
	f := newFixture(t)
	res, err := f.service.Send(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent || len(f.sent.sent) != 0 || !res.Digest.Empty() {
		t.Fatalf("quiet day: sent=%v notices=%d empty=%v", res.Sent, len(f.sent.sent), res.Digest.Empty())
	}
	f.opts.Always = true
	f.clock.Advance(24 * time.Hour)
	if res, err = f.service.Send(context.Background()); err != nil || !res.Sent {
		t.Fatalf("Always: sent=%v err=%v", res.Sent, err)
	}
	if got := f.sent.sent[0].Subject; !strings.Contains(got, "all quiet") {
		t.Errorf("subject %q", got)
	}
}

func TestDigestListsWhatNeedsActionAndWhatChanged(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	f.audit(t, now.Add(-48*time.Hour), "certificate.import", "before the window")
	f.audit(t, now.Add(-2*time.Hour), "certificate.import", "web.example.test")
	f.alerts = []digest.Alert{
		{ID: 7, Rule: "leaf-expiry", Severity: inventory.SeverityWarning, Subject: "web.example.test:443", Summary: "expires in 9 days", Since: now.Add(-time.Hour)},
		{ID: 8, Rule: "unreachable", Severity: inventory.SeverityCritical, Subject: "db.example.test:5432", Summary: "unreachable 3 times", Since: now.Add(-3 * time.Hour)},
		{ID: 9, Rule: "revoked", Severity: inventory.SeverityCritical, Subject: "old.example.test:443", Summary: "revoked", Acknowledged: true},
	}
	f.points = []inventory.Endpoint{
		{ID: 3, Address: "db.example.test:5432", Last: &inventory.EndpointResult{Check: inventory.CheckResult{Error: "connection refused"}}},
		{ID: 4, Address: "ok.example.test:443", Last: &inventory.EndpointResult{Check: inventory.CheckResult{Passed: true}}},
		{ID: 5, Address: "new.example.test:443"},
	}
	f.stuck = []dashboard.Stuck{{Acquisition: inventory.Acquisition{ID: 12}, Days: 20, Reason: "ordered 20 days ago, no certificate received"}}
	res, err := f.service.Send(context.Background())
	if err != nil || !res.Sent {
		t.Fatalf("sent=%v reason=%q err=%v", res != nil && res.Sent, res.Reason, err)
	}
	n := f.sent.sent[0]
	if n.Kind != inventory.NoticeDigest || n.Severity != inventory.SeverityWarning || n.Emails[0] != "pki@example.test" {
		t.Errorf("notice %+v", n)
	}
	want := []string{
		"5 things need action, 1 change",
	}
	if !strings.Contains(n.Subject, want[0]) {
		t.Errorf("subject %q, want %q", n.Subject, want[0])
	}
	text := n.Text
	for _, s := range []string{
		"[critical] db.example.test:5432: unreachable 3 times",
		"https://ck.example.test/alerts/8",
		"Acknowledged alerts still open (1)",
		"db.example.test:5432: connection refused",
		"https://ck.example.test/endpoints/3",
		"acquisition 12: ordered 20 days ago, no certificate received",
		"certificate.import by user:ana: web.example.test",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("digest lacks %q:\n%s", s, text)
		}
	}
	for _, s := range []string{"before the window", "ok.example.test", "new.example.test"} {
		if strings.Contains(text, s) {
			t.Errorf("digest lists %q:\n%s", s, text)
		}
	}
	if strings.Index(text, "db.example.test:5432: unreachable") > strings.Index(text, "web.example.test:443: expires") {
		t.Errorf("critical alerts are not listed first:\n%s", text)
	}
}

func TestDigestStartsWhereTheLastEnded(t *testing.T) {
	f := newFixture(t)
	f.audit(t, f.clock.Now().Add(-time.Hour), "definition.create", "first")
	if res, err := f.service.Send(context.Background()); err != nil || !res.Sent {
		t.Fatalf("first: %v %v", res, err)
	}
	f.clock.Advance(24 * time.Hour)
	res, err := f.service.Send(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent || len(f.sent.sent) != 1 {
		t.Fatalf("the second digest repeated the first day's change: sent=%v %q", res.Sent, res.Digest.Text())
	}
	f.clock.Advance(time.Hour)
	f.audit(t, f.clock.Now().Add(-time.Minute), "definition.update", "second")
	if res, err = f.service.Send(context.Background()); err != nil || !res.Sent {
		t.Fatalf("third: %v %v", res, err)
	}
	if text := f.sent.sent[1].Text; !strings.Contains(text, "second") || strings.Contains(text, ": first") {
		t.Errorf("third digest:\n%s", text)
	}
}

func TestDigestCutsLongSections(t *testing.T) {
	f := newFixture(t)
	for i := range digest.MaxLines + 5 {
		f.points = append(f.points, inventory.Endpoint{ID: int64(i + 1), Address: "h:443",
			Last: &inventory.EndpointResult{Check: inventory.CheckResult{Error: "timeout"}}})
	}
	d, err := f.service.Make(context.Background(), "https://ck.example.test")
	if err != nil {
		t.Fatal(err)
	}
	if s := d.Needs[0]; s.Total != digest.MaxLines+5 || len(s.Lines) != digest.MaxLines {
		t.Fatalf("section %d lines of %d", len(s.Lines), s.Total)
	}
	if !strings.Contains(d.Text(), "- and 5 more: https://ck.example.test/endpoints?status=failed") {
		t.Errorf("no pointer to the rest:\n%s", d.Text())
	}
}

func TestDigestWithoutRecipientIsNotSent(t *testing.T) {
	f := newFixture(t)
	f.opts.Emails = nil
	f.alerts = []digest.Alert{{ID: 1, Severity: inventory.SeverityCritical, Subject: "x", Summary: "y"}}
	res, err := f.service.Send(context.Background())
	if err != nil || res.Sent || !strings.Contains(res.Reason, "no recipient") {
		t.Fatalf("res %+v err %v", res, err)
	}
}

func TestDigestSourceFailureIsAnError(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("database is locked")
	s := digest.New(f.st, digest.Sources{
		Options: func(context.Context) (digest.Options, error) { return f.opts, nil },
		Alerts:  func(context.Context) ([]digest.Alert, error) { return nil, boom },
	}, f.sent, f.clock.Now)
	if _, err := s.Send(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if len(f.sent.sent) != 0 {
		t.Fatal("a digest was sent without its alerts")
	}
}
