package alert_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/alert"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

const day = 24 * time.Hour

var start = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// TestExpiryThresholds checks the default leaf thresholds against short,
// common and long lifetimes: a 6-day certificate warns only in its last
// third, a 398-day one weeks ahead.
func TestExpiryThresholds(t *testing.T) {
	e := newEnv(t, start)
	rules, err := e.svc.Rules(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	leaf := rules[slices.IndexFunc(rules, func(r alert.Rule) bool { return r.Name == alert.RuleLeafExpiry })]
	for _, tc := range []struct {
		lifetime, left time.Duration
		want           string
	}{
		{6 * day, 5 * day, ""},
		{6 * day, 3 * day, ""},
		{6 * day, 47 * time.Hour, inventory.SeverityWarning},
		{6 * day, 15 * time.Hour, inventory.SeverityWarning},
		{6 * day, 14 * time.Hour, inventory.SeverityCritical},
		{90 * day, 31 * day, ""},
		{90 * day, 29 * day, inventory.SeverityWarning},
		{90 * day, 8 * day, inventory.SeverityWarning},
		{90 * day, 6 * day, inventory.SeverityCritical},
		{398 * day, 60 * day, ""},
		{398 * day, 29 * day, inventory.SeverityWarning},
		{398 * day, 6 * day, inventory.SeverityCritical},
		{398 * day, -time.Hour, inventory.SeverityCritical},
		{0, 20 * day, inventory.SeverityWarning},
	} {
		if got := alert.ExpirySeverity(tc.left, tc.lifetime, leaf.AlertRule); got != tc.want {
			t.Errorf("ExpirySeverity(left %s, lifetime %s) = %q, want %q", tc.left, tc.lifetime, got, tc.want)
		}
	}
}

// TestShortLivedQuiet evaluates a 6-day certificate every hour of its
// life: it warns in its last third (2 days) only, repeats once a day,
// and turns critical in its last tenth; never an hourly notice.
func TestShortLivedQuiet(t *testing.T) {
	e := newEnv(t, start)
	e.eps.set(e.web(1, e.pki.leaf("www.example.com", start, 6*day)))
	var all []inventory.Notice
	for range 6 * 24 {
		all = append(all, e.evaluate()...)
		e.clock.Advance(time.Hour)
	}
	want := []string{"firing/warning", "repeat/warning", "firing/critical"}
	if got := kinds(all); !slices.Equal(got, want) {
		t.Errorf("notices over a 6-day life evaluated hourly = %v, want %v", got, want)
	}
}

// TestEveryRule sets up one subject per rule, each with real
// certificates or real lifecycle records, and checks that exactly the
// expected alerts fire, once each.
func TestEveryRule(t *testing.T) {
	now := time.Now().UTC().Add(30 * day).Truncate(time.Second)
	e := newEnv(t, now)
	ctx := context.Background()
	p := e.pki
	good := func(id int64, name string) *site {
		s := e.web(id, p.leaf(name, now.Add(-10*day), 90*day))
		s.ep.ServerName, s.ep.Address = name, name+":443"
		return s
	}
	// 1 serves a certificate expiring in 3 days, 2 one whose issuing CA
	// ends first.
	e.eps.set(e.web(1, p.leaf("www.example.com", now.Add(-87*day), 90*day)))
	shortInter, shortKey := p.sign("Short CA", nil, true, now.Add(-day), now.Add(5*day), p.root, p.rootKey)
	chainLeaf, _ := p.sign("chain.example.com", []string{"chain.example.com"}, false, now.Add(-day), now.Add(60*day), shortInter, shortKey)
	e.eps.set(&site{ep: inventory.Endpoint{ID: 2, Address: "chain.example.com:443", ServerName: "chain.example.com"},
		served: []*x509.Certificate{chainLeaf, shortInter}})
	s3 := good(3, "other.example.com")
	s3.expected = p.leaf("other.example.com", now.Add(-day), 90*day)
	e.eps.set(s3)
	s4 := good(4, "bare.example.com")
	s4.served = s4.served[:1]
	e.eps.set(s4)
	s5 := good(5, "revoked.example.com")
	s5.revoked = true
	e.eps.set(s5)
	foreign := newPKI(t, now.Add(-day))
	e.eps.set(&site{ep: inventory.Endpoint{ID: 6, Address: "foreign.example.com:443", ServerName: "foreign.example.com"},
		served: []*x509.Certificate{foreign.leaf("foreign.example.com", now.Add(-day), 90*day), foreign.inter}})
	s7 := good(7, "name.example.com")
	s7.ep.ServerName = "wrong.example.com"
	e.eps.set(s7)
	e.eps.set(&site{ep: inventory.Endpoint{ID: 8, Address: "down.example.com:443", Failures: 3}, err: "connection refused"})
	e.eps.set(&site{ep: inventory.Endpoint{ID: 9, Address: "flaky.example.com:443", Failures: 2}, err: "connection refused"})
	e.eps.set(e.web(10, p.leaf("www.example.com", now.Add(2*day), 90*day)))
	e.eps.set(good(11, "fine.example.com"))

	// Definition 1 is inside its 30-day renewal window with nothing
	// under way; definition 2 too but with an acquisition (stuck: made
	// 30 days before the clock); a deployment of definition 3's
	// certificate was requested 30 days before the clock.
	overdue := p.leaf("overdue.example.com", now.Add(-80*day), 90*day)
	stuck := p.leaf("stuck.example.com", now.Add(-80*day), 90*day)
	ids := putCerts(t, e.st, overdue, stuck)
	d1 := putDefinition(t, e.st, "overdue", ids[0], "owner@example.com")
	d2 := putDefinition(t, e.st, "stuck", ids[1], "")
	acq := &inventory.Acquisition{DefinitionID: d2.ID, Kind: inventory.AcquisitionRenewal, State: inventory.StateCSRReady}
	if err := e.st.PutAcquisition(ctx, acq); err != nil {
		t.Fatal(err)
	}
	target := &inventory.Target{Name: "web1", Preset: "nginx", Method: inventory.MethodManual, Directory: "/etc/nginx/tls",
		AdminEmail: "web1-admin@example.com"}
	if err := e.st.PutTarget(ctx, target); err != nil {
		t.Fatal(err)
	}
	dep := &inventory.Deployment{CertificateID: ids[1], TargetID: target.ID, DefinitionID: d2.ID, State: inventory.DeployInstallRequested}
	if err := e.st.PutDeployment(ctx, dep); err != nil {
		t.Fatal(err)
	}

	sent := e.evaluate()
	want := []string{
		"leaf-expiry endpoint:1 critical", "chain-expiry endpoint:2 critical", "not-expected endpoint:3 critical",
		"intermediates-missing endpoint:4 warning", "revoked endpoint:5 critical", "untrusted endpoint:6 critical",
		"name-mismatch endpoint:7 critical", "endpoint-unreachable endpoint:8 critical",
		"not-yet-valid endpoint:10 warning", "renewal-overdue " + inventory.ObjectRef("definition", d1.ID) + " warning",
		"acquisition-stuck " + inventory.ObjectRef("acquisition", acq.ID) + " warning",
		"deployment-stuck " + inventory.ObjectRef("deployment", dep.ID) + " warning",
	}
	open, err := e.svc.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range open {
		got = append(got, a.Rule+" "+a.Subject+" "+a.Severity)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("open alerts:\n got %q\nwant %q", got, want)
	}
	if len(sent) != len(want) {
		t.Errorf("notices = %d (%v), want one firing notice per alert (%d)", len(sent), kinds(sent), len(want))
	}
	if again := e.evaluate(); len(again) != 0 {
		t.Errorf("second Evaluate with nothing changed sent %v, want nothing", kinds(again))
	}
	counts, err := e.svc.FiringByRule(ctx)
	if err != nil || counts[alert.RuleLeafExpiry] != 1 || counts[alert.RuleUntrusted] != 1 || len(counts) != 12 {
		t.Errorf("FiringByRule = %v, %v; want every rule, one leaf-expiry and one untrusted", counts, err)
	}
}

// TestLifecycle walks one alert through every state change with the
// test clock and checks one notice per change, repeats only while
// unacknowledged, and one resolved notice.
func TestLifecycle(t *testing.T) {
	e := newEnv(t, start)
	ctx := context.Background()
	e.eps.set(e.web(1, e.pki.leaf("www.example.com", start.Add(-50*day), 90*day)))
	if n := e.evaluate(); len(n) != 0 {
		t.Fatalf("40 days left: notices %v, want none", kinds(n))
	}
	e.clock.Advance(15 * day) // 25 days left
	n := e.evaluate()
	if !slices.Equal(kinds(n), []string{"firing/warning"}) {
		t.Fatalf("25 days left: notices %v, want one firing warning", kinds(n))
	}
	id := alertID(t, n[0])
	step := func(d time.Duration, want ...string) {
		t.Helper()
		e.clock.Advance(d)
		if got := kinds(e.evaluate()); !slices.Equal(got, want) {
			t.Fatalf("after %s more: notices %v, want %v", d, got, want)
		}
	}
	step(0)
	step(23 * time.Hour)
	step(time.Hour, "repeat/warning")
	step(12 * time.Hour)
	step(12*time.Hour, "repeat/warning")
	if _, err := e.svc.Acknowledge(ctx, user, id, "renewal ordered"); err != nil {
		t.Fatalf("Acknowledge: %v", err)
	}
	step(day)
	step(day)
	step(15*day, "firing/critical") // 5 days left: severity rose, the acknowledgement ends
	a, err := e.svc.Get(ctx, id)
	if err != nil || a.State != inventory.AlertFiring || a.Notifications != 4 {
		t.Fatalf("after the rise: %+v, %v; want firing with 4 notices", a, err)
	}
	if _, err := e.svc.Silence(ctx, admin, id, "change freeze", e.clock.Now().Add(2*day)); err != nil {
		t.Fatalf("Silence: %v", err)
	}
	step(day)
	step(day, "repeat/critical") // the silence ended
	e.eps.set(e.web(1, e.pki.leaf("www.example.com", e.clock.Now().Add(-time.Hour), 90*day)))
	step(time.Hour, "resolved/info")
	step(time.Hour)
	if a, err := e.svc.Get(ctx, id); err != nil || a.State != inventory.AlertResolved || a.ResolvedAt.IsZero() {
		t.Fatalf("after renewal: %+v, %v; want resolved", a, err)
	}
}

func alertID(t *testing.T, n inventory.Notice) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscanf(n.Key, "alert:%d", &id); err != nil {
		t.Fatalf("notice key %q: %v", n.Key, err)
	}
	return id
}

// TestAcknowledgeSilence checks who may do what, that bad input changes
// nothing, and that each change is audited.
func TestAcknowledgeSilence(t *testing.T) {
	e := newEnv(t, start)
	ctx := context.Background()
	e.eps.set(e.web(1, e.pki.leaf("www.example.com", start.Add(-85*day), 90*day)))
	n := e.evaluate()
	if len(n) != 1 {
		t.Fatalf("notices %v, want one", kinds(n))
	}
	id := alertID(t, n[0])
	until := start.Add(day)
	if _, err := e.svc.Silence(ctx, user, id, "quiet", until); !errors.Is(err, alert.ErrForbidden) {
		t.Errorf("Silence by a user: err = %v, want ErrForbidden", err)
	}
	if _, err := e.svc.Acknowledge(ctx, user, id, "  "); !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("Acknowledge without a reason: err = %v, want ErrInvalid", err)
	}
	if _, err := e.svc.Silence(ctx, admin, id, "quiet", start.Add(-time.Hour)); !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("Silence until the past: err = %v, want ErrInvalid", err)
	}
	if a, _ := e.svc.Get(ctx, id); a.State != inventory.AlertFiring {
		t.Fatalf("after refused changes the alert is %s, want firing", a.State)
	}
	if _, err := e.svc.Acknowledge(ctx, user, id, "on it"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Acknowledge(ctx, user, id, "again"); !errors.Is(err, inventory.ErrState) {
		t.Errorf("second Acknowledge: err = %v, want ErrState", err)
	}
	a, err := e.svc.Silence(ctx, admin, id, "maintenance window", until)
	if err != nil || a.State != inventory.AlertSilenced || !a.SilencedUntil.Equal(until) || a.SilencedBy != admin.Name {
		t.Fatalf("Silence = %+v, %v", a, err)
	}
	events, _, err := e.st.ListAudit(ctx, time.Time{}, inventory.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events {
		if strings.HasPrefix(ev.Action, "alert.") {
			got = append(got, ev.Action+" "+ev.Actor+" "+ev.Object)
		}
	}
	obj := inventory.ObjectRef(inventory.KindAlert, id)
	want := []string{"alert.acknowledge user:bo " + obj, "alert.silence user:ada " + obj}
	if !slices.Equal(got, want) {
		t.Errorf("audit = %q, want %q", got, want)
	}
	if _, err := e.svc.Acknowledge(ctx, user, 999, "x"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Acknowledge(unknown): err = %v, want ErrNotFound", err)
	}
}

// TestRules checks the Admin's rule changes: validated, audited, only by
// an Admin, and applied by the next evaluation.
func TestRules(t *testing.T) {
	e := newEnv(t, start)
	ctx := context.Background()
	e.eps.set(e.web(1, e.pki.leaf("www.example.com", start.Add(-85*day), 90*day)))
	if n := e.evaluate(); len(n) != 1 {
		t.Fatalf("notices %v, want one", kinds(n))
	}
	off := false
	if _, err := e.svc.UpdateRule(ctx, user, alert.RuleLeafExpiry, alert.RuleChange{Enabled: &off}); !errors.Is(err, alert.ErrForbidden) {
		t.Errorf("UpdateRule by a user: err = %v, want ErrForbidden", err)
	}
	bad := 40
	for _, ch := range []alert.RuleChange{{CriticalDays: &bad}, {Threshold: &bad}, {Channels: &[]string{"no spaces"}}} {
		if _, err := e.svc.UpdateRule(ctx, admin, alert.RuleLeafExpiry, ch); !errors.Is(err, inventory.ErrInvalid) {
			t.Errorf("UpdateRule(%+v): err = %v, want ErrInvalid", ch, err)
		}
	}
	if _, err := e.svc.UpdateRule(ctx, admin, "no-such-rule", alert.RuleChange{}); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("UpdateRule(unknown): err = %v, want ErrNotFound", err)
	}
	r, err := e.svc.UpdateRule(ctx, admin, alert.RuleLeafExpiry, alert.RuleChange{Enabled: &off})
	if err != nil || r.Enabled || !r.Changed || r.WarnDays != 30 {
		t.Fatalf("UpdateRule(disable) = %+v, %v", r, err)
	}
	if n := e.evaluate(); !slices.Equal(kinds(n), []string{"resolved/info"}) {
		t.Errorf("after disabling the rule: notices %v, want one resolved", kinds(n))
	}
	on, days := true, 3
	if _, err := e.svc.UpdateRule(ctx, admin, alert.RuleLeafExpiry, alert.RuleChange{Enabled: &on, WarnDays: &days, CriticalDays: &days}); err != nil {
		t.Fatal(err)
	}
	if n := e.evaluate(); len(n) != 0 {
		t.Errorf("5 days left, warn at 3: notices %v, want none", kinds(n))
	}
	r, err = e.svc.UpdateRule(ctx, admin, alert.RuleLeafExpiry, alert.RuleChange{Reset: true})
	if err != nil || r.WarnDays != 30 || !r.Enabled {
		t.Fatalf("reset = %+v, %v", r, err)
	}
	events, _, _ := e.st.ListAudit(ctx, time.Time{}, inventory.Page{})
	rules := 0
	for _, ev := range events {
		if ev.Action == "alert.rule" && ev.Object == "alert-rule:leaf-expiry" {
			rules++
		}
	}
	if rules != 3 {
		t.Errorf("alert.rule audit events = %d, want 3", rules)
	}
}

func putCerts(t *testing.T, st inventory.Store, certs ...*x509.Certificate) []int64 {
	t.Helper()
	var recs []*inventory.Certificate
	for _, c := range certs {
		recs = append(recs, inventory.NewCertificate(c, "test"))
	}
	res, err := st.PutCertificates(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range res {
		ids = append(ids, r.ID)
	}
	return ids
}

func putDefinition(t *testing.T, st inventory.Store, name string, current int64, contact string) *inventory.Definition {
	t.Helper()
	d := &inventory.Definition{Name: name, Subject: inventory.Subject{CommonName: name + ".example.com"},
		SANs: []string{name + ".example.com"}, KeyType: "ecdsa-p256", ContactEmail: contact,
		Renewal: inventory.Renewal{DaysBefore: 30}, Labels: []string{"team-" + name}, CurrentCertificateID: current}
	if err := st.PutDefinition(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

func itoa(n int64) string { return fmt.Sprint(n) }
