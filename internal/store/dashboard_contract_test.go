package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var dashboardCases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"CountByStatus", testCountByStatus},
	{"CountByDay", testCountByDay},
	{"CountByDayErrors", testCountByDayErrors},
	{"CountsUseIndex", testCountsUseIndex},
}

// TestDashboardCountsContract runs the contract of
// CountCertificatesByStatus and CountCertificatesByDay on every backend.
func TestDashboardCountsContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range dashboardCases {
				t.Run(tc.name, func(t *testing.T) {
					loc := b.fresh(t)
					tc.run(t, &env{b: b, loc: loc, s: openStore(t, b, loc)})
				})
			}
		})
	}
}

// dashboardNow is the fixture's "now": 13:20:00.5 UTC, mid-day and
// between whole seconds, on a day some years ahead (so that nothing
// depends on the wall clock).
func dashboardNow() time.Time {
	return time.Date(2031, time.March, 14, 13, 20, 0, 500_000_000, time.UTC)
}

// dashboardFixture stores certificates around the day boundaries of
// dashboardNow's day (day 0) and its status boundaries, and returns them
// as stored, by name.
func dashboardFixture(t *testing.T, s inventory.Store) map[string]inventory.Certificate {
	t.Helper()
	now := dashboardNow()
	day0 := now.Truncate(24 * time.Hour)
	at := now.Truncate(time.Second) // now's whole second
	ca := fakeCertificate(900, &inventory.Certificate{}, day0.Add(2*day))
	ca.Subject, ca.IsCA, ca.SelfSigned, ca.Issuer = "CN=Dash CA", true, true, "CN=Dash CA"
	specs := []struct {
		name     string
		notAfter time.Time
		edit     func(c *inventory.Certificate)
	}{
		{"ca day 2", day0.Add(2 * day), func(c *inventory.Certificate) { *c = *ca }},
		{"ca expired", now.Add(-time.Hour), func(c *inventory.Certificate) { c.IsCA = true }},
		{"ca day 40", day0.Add(40*day + time.Hour), func(c *inventory.Certificate) { c.IsCA = true }},
		{"before day 0", day0.Add(-time.Second), nil},
		{"day 0 start", day0, nil},
		{"expired today", now.Add(-time.Hour), nil},
		{"at now's second", at, nil}, // expired at now (now is after it)
		{"now's second + 1", at.Add(time.Second), nil},
		{"day 0 end", day0.Add(day - time.Second), nil},
		{"day 1 start", day0.Add(day), nil},
		{"day 1 start twin", day0.Add(day), nil},
		{"day 3", day0.Add(3*day + 7*time.Hour), nil},
		{"ocsp responder day 3", day0.Add(3*day + 8*time.Hour), func(c *inventory.Certificate) {
			c.Subject, c.CommonName = "CN=Dash CA OCSP Responder", "Dash CA OCSP Responder"
			c.Internal = true
		}},
		{"revoked day 3", day0.Add(3*day + 9*time.Hour), func(c *inventory.Certificate) {
			r := now.Add(-day)
			c.RevokedAt = &r
		}},
		{"revoked expired", now.Add(-2 * day), func(c *inventory.Certificate) {
			r := now.Add(-3 * day)
			c.RevokedAt = &r
		}},
		{"revoked not yet valid", day0.Add(20 * day), func(c *inventory.Certificate) {
			r := now.Add(-time.Minute)
			c.RevokedAt, c.NotBefore = &r, now.Add(day)
		}},
		{"not yet valid day 10", day0.Add(10 * day), func(c *inventory.Certificate) { c.NotBefore = now.Add(time.Hour) }},
		{"not yet valid until now's second + 1", day0.Add(12 * day), func(c *inventory.Certificate) {
			c.NotBefore = at.Add(time.Second)
		}},
		{"valid from now's second", day0.Add(12 * day), func(c *inventory.Certificate) { c.NotBefore = at }},
		{"30 days less 1s", now.Add(30*day - time.Second), nil},
		{"30 days + 1s", now.Add(30*day + time.Second), nil},
		{"day 29 end", day0.Add(30*day - time.Second), nil},
		{"day 89 end", day0.Add(90*day - time.Second), nil},
		{"day 90 start", day0.Add(90 * day), nil},
		{"expired long ago", now.Add(-400 * day), nil},
	}
	recs := make([]*inventory.Certificate, len(specs))
	for i, sp := range specs {
		c := fakeCertificate(i, ca, sp.notAfter)
		if sp.edit != nil {
			sp.edit(c)
		}
		if i%2 == 0 {
			c.Labels = []string{"even"}
		}
		recs[i] = c
	}
	res := putCerts(t, s, recs...)
	out := make(map[string]inventory.Certificate, len(specs))
	for i, r := range res {
		if !r.Added {
			t.Fatalf("%s not added", specs[i].name)
		}
		out[specs[i].name] = *getCert(t, s, r.ID)
	}
	return out
}

// dashboardFilters are the filters the counts are checked with.
func dashboardFilters(now time.Time) map[string]inventory.CertificateFilter {
	return map[string]inventory.CertificateFilter{
		"all":                       {},
		"leaf only":                 {LeafOnly: true},
		"CA only":                   {CAOnly: true},
		"label":                     {Label: "even"},
		"text":                      {Text: "ocsp responder"},
		"not expired now":           {NotExpiredAt: now},
		"expiring within 30 days":   {ExpiringBefore: now.Add(30 * day)},
		"valid leaves now":          {Status: inventory.StatusValid, At: now, LeafOnly: true},
		"valid now":                 {Status: inventory.StatusValid, At: now},
		"expired leaves":            {Status: inventory.StatusExpired, At: now, LeafOnly: true},
		"not yet valid":             {Status: inventory.StatusNotYetValid, At: now},
		"revoked":                   {Status: inventory.StatusRevoked},
		"valid leaves in 11 days":   {Status: inventory.StatusValid, At: now.Add(11 * day), LeafOnly: true},
		"valid within 30 days now":  {Status: inventory.StatusValid, At: now, LeafOnly: true, ExpiringBefore: now.Add(30 * day)},
		"internal only":             {InternalOnly: true},
		"internal left out":         {ExcludeInternal: true},
		"valid leaves, no internal": {Status: inventory.StatusValid, At: now, LeafOnly: true, ExcludeInternal: true},
	}
}

// day is one UTC day.
const day = 24 * time.Hour

var allStatuses = []inventory.Status{inventory.StatusValid, inventory.StatusExpired, inventory.StatusNotYetValid, inventory.StatusRevoked}

func testCountByStatus(t *testing.T, e *env) {
	ctx := context.Background()
	certs := dashboardFixture(t, e.s)
	now := dashboardNow()
	at := now.Truncate(time.Second)
	ats := []time.Time{now, at, at.Add(-time.Nanosecond), at.Add(time.Second), now.Add(time.Hour),
		now.Add(12 * day), now.Add(-day)}
	for name, f := range dashboardFilters(now) {
		if f.Status != "" {
			continue // the status is ignored; checked below
		}
		for _, when := range ats {
			f.At = when
			got, err := e.s.CountCertificatesByStatus(ctx, f)
			if err != nil {
				t.Fatalf("%s at %s: CountCertificatesByStatus: %v", name, when.Format(time.RFC3339Nano), err)
			}
			want := make(map[inventory.Status]int)
			for _, st := range allStatuses {
				sf := f
				sf.Status = st
				n, err := e.s.CountCertificates(ctx, sf)
				if err != nil {
					t.Fatalf("CountCertificates: %v", err)
				}
				want[st] = n
				// The reference: StatusAt over the certificates f selects.
				ref := 0
				for _, c := range certs {
					if matches(&c, sf) {
						ref++
					}
				}
				if ref != n {
					t.Fatalf("%s at %s: CountCertificates(%s) = %d, reference %d", name, when.Format(time.RFC3339Nano), st, n, ref)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s at %s: CountCertificatesByStatus (-CountCertificates +got):\n%s",
					name, when.Format(time.RFC3339Nano), diff)
			}
		}
	}

	// Known figures at now: one of each boundary case lands as StatusAt says.
	got, err := e.s.CountCertificatesByStatus(ctx, inventory.CertificateFilter{At: now, LeafOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[inventory.Status]int{
		// before day 0, day 0 start, expired today, at now's second, expired long ago
		inventory.StatusExpired: 5,
		// revoked day 3, revoked expired, revoked not yet valid
		inventory.StatusRevoked: 3,
		// not yet valid day 10, not yet valid until now's second + 1
		inventory.StatusNotYetValid: 2,
		inventory.StatusValid:       len(certs) - 3 - 5 - 3 - 2,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("leaf counts at now (-want +got):\n%s", diff)
	}
	// The OCSP responder certificate is stored as internal and left out.
	if c := certs["ocsp responder day 3"]; !c.Internal {
		t.Errorf("ocsp responder certificate read back with Internal false")
	}
	got, err = e.s.CountCertificatesByStatus(ctx, inventory.CertificateFilter{At: now, LeafOnly: true, ExcludeInternal: true})
	if err != nil {
		t.Fatal(err)
	}
	want[inventory.StatusValid]--
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("leaf counts at now without internal ones (-want +got):\n%s", diff)
	}
	// f.Status is ignored, even when unknown; At zero is now, before the
	// fixture's CA certificates are valid.
	if time.Now().After(time.Date(2030, time.June, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatal("the fixture's times have passed: move dashboardNow on")
	}
	for _, st := range []inventory.Status{inventory.StatusValid, "bogus"} {
		got, err := e.s.CountCertificatesByStatus(ctx, inventory.CertificateFilter{Status: st, CAOnly: true})
		want := map[inventory.Status]int{inventory.StatusValid: 0, inventory.StatusExpired: 0,
			inventory.StatusNotYetValid: 3, inventory.StatusRevoked: 0}
		if err != nil || !cmp.Equal(got, want) {
			t.Errorf("CA counts now, status %q = %v, %v; want %v", st, got, err, want)
		}
	}
	// An empty selection counts zeros.
	got, err = e.s.CountCertificatesByStatus(ctx, inventory.CertificateFilter{Label: "none"})
	if err != nil || len(got) != 4 || got[inventory.StatusValid]+got[inventory.StatusExpired]+
		got[inventory.StatusNotYetValid]+got[inventory.StatusRevoked] != 0 {
		t.Errorf("empty selection = %v, %v; want four zero counts", got, err)
	}
}

func testCountByDay(t *testing.T, e *env) {
	ctx := context.Background()
	certs := dashboardFixture(t, e.s)
	now := dashboardNow()
	day0 := now.Truncate(24 * time.Hour)
	froms := map[string]time.Time{
		"now":              now,
		"day start":        day0,
		"day end":          day0.Add(day - time.Nanosecond),
		"other zone":       now.In(time.FixedZone("UTC-14", -14*3600)), // the day before, locally
		"yesterday":        now.Add(-day),
		"a year on (none)": now.Add(400 * day),
	}
	for name, f := range dashboardFilters(now) {
		for fromName, from := range froms {
			for _, days := range []int{1, 90} {
				got, err := e.s.CountCertificatesByDay(ctx, f, from, days)
				if err != nil {
					t.Fatalf("%s from %s: CountCertificatesByDay: %v", name, fromName, err)
				}
				start := from.UTC().Truncate(24 * time.Hour)
				want := make([]int, days)
				for _, c := range certs {
					if i := int(c.NotAfter.Sub(start) / day); !c.NotAfter.Before(start) && i < days && matches(&c, f) {
						want[i]++
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s from %s, %d days (-want +got):\n%s", name, fromName, days, diff)
				}
				if days != 90 || fromName != "now" || !f.ExpiringBefore.IsZero() || !f.NotExpiredAt.IsZero() {
					continue
				}
				// The same per day with CountCertificates.
				for i := range days {
					df := f
					df.NotExpiredAt, df.ExpiringBefore = start.AddDate(0, 0, i), start.AddDate(0, 0, i+1)
					n, err := e.s.CountCertificates(ctx, df)
					if err != nil || n != got[i] {
						t.Errorf("%s from %s: day %d: CountCertificates = %d, %v; by day %d", name, fromName, i, n, err, got[i])
					}
				}
			}
		}
	}

	// Known figures: the day boundaries.
	got, err := e.s.CountCertificatesByDay(ctx, inventory.CertificateFilter{LeafOnly: true}, now, 91)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]int{
		0:  5, // day 0 start, expired today, at now's second, now's second + 1, day 0 end
		1:  2, // day 1 start (twice)
		3:  3, // day 3, OCSP responder, revoked
		10: 1, 12: 2, 20: 1,
		29: 1, // day 29 end
		30: 2, // 30 days ± 1s from 13:20
		89: 1, // day 89 end
		90: 1, // day 90 start
	}
	for i, n := range got {
		if n != want[i] {
			t.Errorf("leaf day %d = %d, want %d", i, n, want[i])
		}
	}
	// Valid leaves, as the dashboard's timeline counts them: the expired
	// ones of day 0, the revoked and the not yet valid drop out; the OCSP
	// responder certificate stays.
	got, err = e.s.CountCertificatesByDay(ctx, inventory.CertificateFilter{Status: inventory.StatusValid, At: now, LeafOnly: true}, now, 90)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != 2 || got[1] != 2 || got[3] != 2 || got[10] != 0 || got[12] != 1 || got[20] != 0 || got[29] != 1 ||
		got[30] != 2 || got[89] != 1 {
		t.Errorf("valid leaf timeline = %v", got)
	}
}

func testCountByDayErrors(t *testing.T, e *env) {
	ctx := context.Background()
	dashboardFixture(t, e.s)
	now := dashboardNow()
	for _, days := range []int{-1, inventory.MaxCountDays + 1} {
		if _, err := e.s.CountCertificatesByDay(ctx, inventory.CertificateFilter{}, now, days); !errors.Is(err, inventory.ErrInvalid) {
			t.Errorf("%d days: %v, want ErrInvalid", days, err)
		}
	}
	if got, err := e.s.CountCertificatesByDay(ctx, inventory.CertificateFilter{}, now, 0); err != nil || len(got) != 0 {
		t.Errorf("0 days = %v, %v; want none", got, err)
	}
	if got, err := e.s.CountCertificatesByDay(ctx, inventory.CertificateFilter{}, now, inventory.MaxCountDays); err != nil ||
		len(got) != inventory.MaxCountDays {
		t.Errorf("%d days = %d days, %v", inventory.MaxCountDays, len(got), err)
	}
	for _, f := range []inventory.CertificateFilter{{Status: "bogus"}, {Text: "a\x00b"}} {
		if _, err := e.s.CountCertificatesByDay(ctx, f, now, 0); !errors.Is(err, inventory.ErrInvalid) {
			t.Errorf("filter %+v: %v, want ErrInvalid", f, err)
		}
	}
	if _, err := e.s.CountCertificatesByStatus(ctx, inventory.CertificateFilter{Text: "a\x00b"}); !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("CountCertificatesByStatus with a NUL: %v, want ErrInvalid", err)
	}
}

// testCountsUseIndex checks that both counts are answered from an index
// alone (certificates_status, or certificates_not_after when not_after is
// all a query reads), without visiting the table rows. PostgreSQL plans
// index-only scans once VACUUM has set the visibility map.
func testCountsUseIndex(t *testing.T, e *env) {
	d := dbOf(e.s)
	ctx := context.Background()
	dashboardFixture(t, e.s)
	if d.dialect == postgresDialect {
		if _, err := d.w.ExecContext(ctx, "VACUUM ANALYZE certificates"); err != nil {
			t.Fatal(err)
		}
	}
	now := dashboardNow()
	for name, f := range map[string]inventory.CertificateFilter{
		"all": {}, "leaf": {LeafOnly: true}, "valid leaf": {Status: inventory.StatusValid, At: now, LeafOnly: true},
	} {
		query, args, err := d.statusCountQuery(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		checkCovering(t, d, "status "+name, query, args)
		query, args, err = d.dayCountQuery(ctx, f, now, 90)
		if err != nil {
			t.Fatal(err)
		}
		checkCovering(t, d, "day "+name, query, args)
	}
}

func checkCovering(t *testing.T, d *db, name, query string, args []any) {
	t.Helper()
	plan := explain(t, d, query, args)
	want := "USING COVERING INDEX"
	if d.dialect == postgresDialect {
		want = "Index Only Scan"
	}
	if !strings.Contains(plan, want) {
		t.Errorf("%s: plan does not hold %q:\n%s", name, want, plan)
	}
}
