package store

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// filterFixture stores two CAs and 40 leaves with NotAfter from 10 days
// ago to 30 days ahead (pairs share a NotAfter to exercise the ID
// tie-break), alternating issuers, and "prod"/"web" labels.
func filterFixture(t *testing.T, s inventory.Store, now time.Time) []inventory.Certificate {
	t.Helper()
	var recs []*inventory.Certificate
	for i, name := range []string{"Alpha", "Beta"} {
		ca := fakeCertificate(1000+i, &inventory.Certificate{}, now.Add(3000*time.Hour))
		ca.Subject, ca.IsCA, ca.SelfSigned = "CN="+name+" Issuing CA,O=Example", true, true
		ca.Issuer, ca.AuthorityKeyID = ca.Subject, ""
		recs = append(recs, ca)
	}
	for i := range 40 {
		c := fakeCertificate(i, recs[i%2], now.Add(time.Duration(i/2-5)*48*time.Hour))
		if i%3 == 0 {
			c.Labels = append(c.Labels, "prod")
		}
		if i%5 == 0 {
			c.Labels = append(c.Labels, "web")
		}
		recs = append(recs, c)
	}
	// Insert in a scrambled order so that ID order differs from NotAfter order.
	slices.SortFunc(recs, func(a, b *inventory.Certificate) int { return strings.Compare(a.SHA256, b.SHA256) })
	var out []inventory.Certificate
	for _, r := range putCerts(t, s, recs...) {
		out = append(out, *getCert(t, s, r.ID))
	}
	slices.SortFunc(out, func(a, b inventory.Certificate) int {
		if c := a.NotAfter.Compare(b.NotAfter); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out
}

// matches is the reference implementation of CertificateFilter.
func matches(c *inventory.Certificate, f inventory.CertificateFilter) bool {
	contains := func(s, sub string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(sub)) }
	hex := strings.ReplaceAll(strings.ToLower(f.Text), ":", "")
	switch {
	case !f.ExpiringBefore.IsZero() && !c.NotAfter.Before(f.ExpiringBefore),
		!f.NotExpiredAt.IsZero() && c.NotAfter.Before(f.NotExpiredAt),
		f.Issuer != "" && !contains(c.Issuer, f.Issuer),
		f.Text != "" && !contains(c.Subject, f.Text) && !contains(strings.Join(c.SANs, "\n"), f.Text) &&
			!strings.Contains(c.Serial, hex) && !strings.Contains(c.SHA256, hex),
		f.Label != "" && !slices.Contains(c.Labels, f.Label),
		f.CAOnly && !c.IsCA,
		f.LeafOnly && c.IsCA:
		return false
	}
	return true
}

func testFiltersAndPagination(t *testing.T, e *env) {
	now := time.Now().UTC().Truncate(time.Second)
	all := filterFixture(t, e.s, now)
	sample := all[7]
	filters := map[string]inventory.CertificateFilter{
		"all":                     {},
		"expiring within 7 days":  {ExpiringBefore: now.Add(7 * 24 * time.Hour), NotExpiredAt: now},
		"expiring incl. expired":  {ExpiringBefore: now.Add(7 * 24 * time.Hour)},
		"not expired":             {NotExpiredAt: now},
		"sub-second bounds":       {ExpiringBefore: sample.NotAfter.Add(time.Millisecond), NotExpiredAt: sample.NotAfter.Add(-time.Millisecond)},
		"issuer case-insensitive": {Issuer: "alpha issuing"},
		"issuer no match":         {Issuer: "gamma"},
		"text subject":            {Text: "HOST-1"},
		"text san":                {Text: "www.host-22."},
		"text serial":             {Text: sample.Serial[8:]},
		"text sha256 colons":      {Text: strings.ToUpper(sample.SHA256[:2] + ":" + sample.SHA256[2:6])},
		"text like wildcards":     {Text: "host_1%"},
		"label":                   {Label: "prod"},
		"CA only":                 {CAOnly: true},
		"leaf only":               {LeafOnly: true},
		"combined":                {Label: "web", LeafOnly: true, NotExpiredAt: now, Issuer: "beta"},
	}
	for name, f := range filters {
		t.Run(name, func(t *testing.T) {
			var want []int64
			for i := range all {
				if matches(&all[i], f) {
					want = append(want, all[i].ID)
				}
			}
			got := listAllIDs(t, e.s, f, 4)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ListCertificates IDs (-want +got):\n%s", diff)
			}
			n, err := e.s.CountCertificates(context.Background(), f)
			if err != nil || n != len(want) {
				t.Errorf("CountCertificates = %d, %v; want %d", n, err, len(want))
			}
		})
	}
	if n := len(listAllIDs(t, e.s, inventory.CertificateFilter{Text: "host-1"}, 0)); n < 11 {
		t.Errorf("text filter host-1 found %d certificates, want at least 11", n)
	}
}

// listAllIDs pages through a filter with page size limit and checks that
// no ID repeats and that every page but the last is full.
func listAllIDs(t *testing.T, s inventory.Store, f inventory.CertificateFilter, limit int) []int64 {
	t.Helper()
	seen := make(map[int64]bool)
	var ids []int64
	for p := (inventory.Page{Limit: limit}); ; {
		page, err := s.ListCertificates(context.Background(), f, p)
		if err != nil {
			t.Fatalf("ListCertificates: %v", err)
		}
		for _, c := range page.Items {
			if seen[c.ID] {
				t.Fatalf("certificate %d listed twice", c.ID)
			}
			seen[c.ID] = true
			ids = append(ids, c.ID)
		}
		if page.Next == "" {
			return ids
		}
		if limit > 0 && len(page.Items) != limit {
			t.Fatalf("page with a next cursor has %d items, want %d", len(page.Items), limit)
		}
		p.After = page.Next
	}
}
