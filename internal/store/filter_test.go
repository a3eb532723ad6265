package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// filterFixture stores two CAs and 40 leaves with NotAfter from 10 days
// ago to 30 days ahead (pairs share a NotAfter to exercise the ID
// tie-break), alternating issuers, and "prod"/"web" labels. Some leaves
// are revoked, some not yet valid, and some share a stored key.
func filterFixture(t *testing.T, s inventory.Store, now time.Time) []inventory.Certificate {
	t.Helper()
	putKey(t, s, &inventory.Key{SPKISHA256: "shared-spki", Algorithm: inventory.ECDSA, Bits: 256, Sealed: []byte("k")})
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
		if i%7 == 3 {
			revoked := now.Add(-time.Hour)
			c.RevokedAt = &revoked
		}
		if i%6 == 5 && c.NotAfter.After(now) {
			c.NotBefore = now.Add(time.Hour)
		}
		if i%9 == 4 {
			c.SPKISHA256 = "shared-spki"
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
	at := f.At
	if at.IsZero() {
		at = time.Now()
	}
	switch {
	case f.Status != "" && c.StatusAt(at) != f.Status,
		f.KeyID != 0 && c.KeyID != f.KeyID:
		return false
	case !f.ExpiringBefore.IsZero() && !c.NotAfter.Before(f.ExpiringBefore),
		!f.NotExpiredAt.IsZero() && c.NotAfter.Before(f.NotExpiredAt),
		f.Issuer != "" && !contains(c.Issuer, f.Issuer),
		f.Text != "" && !contains(c.Subject, f.Text) && !contains(strings.Join(c.SANs, "\n"), f.Text) &&
			!strings.Contains(c.Serial, hex) && !strings.Contains(c.SHA256, hex),
		f.Label != "" && !slices.Contains(c.Labels, f.Label),
		f.CAOnly && !c.IsCA,
		f.LeafOnly && c.IsCA,
		f.InternalOnly && !c.Internal,
		f.ExcludeInternal && c.Internal:
		return false
	}
	return true
}

func testFiltersAndPagination(t *testing.T, e *env) {
	now := time.Now().UTC().Truncate(time.Second)
	all := filterFixture(t, e.s, now)
	sample := all[7]
	key, err := e.s.KeyBySPKI(context.Background(), "shared-spki")
	if err != nil {
		t.Fatalf("KeyBySPKI: %v", err)
	}
	shared := key.ID
	filters := map[string]inventory.CertificateFilter{
		"all":                            {},
		"expiring within 7 days":         {ExpiringBefore: now.Add(7 * 24 * time.Hour), NotExpiredAt: now},
		"expiring incl. expired":         {ExpiringBefore: now.Add(7 * 24 * time.Hour)},
		"not expired":                    {NotExpiredAt: now},
		"sub-second bounds":              {ExpiringBefore: sample.NotAfter.Add(time.Millisecond), NotExpiredAt: sample.NotAfter.Add(-time.Millisecond)},
		"issuer case-insensitive":        {Issuer: "alpha issuing"},
		"issuer no match":                {Issuer: "gamma"},
		"text subject":                   {Text: "HOST-1"},
		"text san":                       {Text: "www.host-22."},
		"text serial":                    {Text: sample.Serial[8:]},
		"text sha256 colons":             {Text: strings.ToUpper(sample.SHA256[:2] + ":" + sample.SHA256[2:6])},
		"text like wildcards":            {Text: "host_1%"},
		"label":                          {Label: "prod"},
		"CA only":                        {CAOnly: true},
		"leaf only":                      {LeafOnly: true},
		"combined":                       {Label: "web", LeafOnly: true, NotExpiredAt: now, Issuer: "beta"},
		"status valid now":               {Status: inventory.StatusValid},
		"status expired now":             {Status: inventory.StatusExpired},
		"status not yet valid":           {Status: inventory.StatusNotYetValid},
		"status revoked":                 {Status: inventory.StatusRevoked},
		"status valid in 10 days":        {Status: inventory.StatusValid, At: now.Add(10 * 24 * time.Hour)},
		"status expired at NotAfter+1ms": {Status: inventory.StatusExpired, At: sample.NotAfter.Add(time.Millisecond)},
		"key":                            {KeyID: shared},
		"key and status":                 {KeyID: shared, Status: inventory.StatusValid},
		"status and text":                {Status: inventory.StatusValid, Text: "host-1"},
	}
	for name, f := range filters {
		t.Run(name, func(t *testing.T) {
			var want []int64
			for i := range all {
				if matches(&all[i], f) {
					want = append(want, all[i].ID)
				}
			}
			if len(want) == 0 && name != "issuer no match" && name != "text like wildcards" {
				t.Fatal("the fixture has no certificate for this filter")
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

// testStatusBoundaries checks the status filter against
// Certificate.StatusAt around NotBefore and NotAfter, at whole seconds and
// between them.
func testStatusBoundaries(t *testing.T, e *env) {
	ctx := context.Background()
	t1 := time.Now().UTC().Truncate(time.Second).Add(30 * 24 * time.Hour)
	rec := fakeCertificate(1, &inventory.Certificate{}, t1)
	revoked := fakeCertificate(2, &inventory.Certificate{}, t1)
	revokedAt := t1.Add(-48 * time.Hour)
	revoked.RevokedAt = &revokedAt
	res := putCerts(t, e.s, rec, revoked)
	c, r := getCert(t, e.s, res[0].ID), getCert(t, e.s, res[1].ID)
	t0 := c.NotBefore
	statuses := []inventory.Status{inventory.StatusValid, inventory.StatusExpired, inventory.StatusNotYetValid, inventory.StatusRevoked}
	for _, at := range []time.Time{
		t0.Add(-time.Second), t0.Add(-time.Nanosecond), t0.Add(-500 * time.Millisecond), t0, t0.Add(time.Nanosecond),
		t0.Add(500 * time.Millisecond), t1.Add(-time.Nanosecond), t1.Add(-500 * time.Millisecond), t1,
		t1.Add(time.Nanosecond), t1.Add(500 * time.Millisecond), t1.Add(time.Second),
	} {
		for _, st := range statuses {
			var want []int64
			for _, cert := range []*inventory.Certificate{c, r} {
				if cert.StatusAt(at) == st {
					want = append(want, cert.ID)
				}
			}
			got := listAllIDs(t, e.s, inventory.CertificateFilter{Status: st, At: at}, 0)
			if !cmp.Equal(got, want) {
				t.Errorf("status %s at %s: got %v, want %v", st, at.Format(time.RFC3339Nano), got, want)
			}
		}
	}
	for _, st := range []inventory.Status{"bogus", "VALID"} {
		_, err := e.s.ListCertificates(ctx, inventory.CertificateFilter{Status: st}, inventory.Page{})
		_, cerr := e.s.CountCertificates(ctx, inventory.CertificateFilter{Status: st})
		if !errors.Is(err, inventory.ErrInvalid) || !errors.Is(cerr, inventory.ErrInvalid) {
			t.Errorf("status %q: list %v, count %v; want ErrInvalid", st, err, cerr)
		}
	}
}
