package store

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// searchRecords are certificates whose names hold LIKE wildcards, FTS5
// query syntax, upper case and non-ASCII letters, next to plain ones.
func searchRecords() []*inventory.Certificate {
	var recs []*inventory.Certificate
	for i, names := range [][]string{
		{"CN=Shop Frontend,O=ACME Corp", "shop.acme.example", "api-gateway.internal.acme.example"},
		{"CN=50%_off.example", "50%_off.example"},
		{`CN=quote"star*minus-colon:paren(x) NEAR/2 {subject}`, "weird.example"},
		{"CN=Bücher Shop", "bücher.example", "xn--bcher-kva.example"},
		{"CN=back\\slash", "under_score.example"},
		{"CN=plain", "plain.example"},
	} {
		c := fakeCertificate(500+i, &inventory.Certificate{}, fixedNotAfter)
		c.Subject, c.SANs = names[0], names[1:]
		recs = append(recs, c)
	}
	return recs
}

// searchFixture stores searchRecords and returns them as stored, in the
// same order.
func searchFixture(t *testing.T, s inventory.Store) []inventory.Certificate {
	t.Helper()
	var out []inventory.Certificate
	for _, r := range putCerts(t, s, searchRecords()...) {
		out = append(out, *getCert(t, s, r.ID))
	}
	return out
}

var fixedNotAfter = time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)

// sortedByID returns certs ordered by ID, the list order of certificates
// with one NotAfter.
func sortedByID(certs []inventory.Certificate) []inventory.Certificate {
	out := slices.Clone(certs)
	slices.SortFunc(out, func(a, b inventory.Certificate) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// searchTexts are texts whose matches the suite checks against the
// reference implementation.
func searchTexts(certs []inventory.Certificate) []string {
	fp := certs[0].SHA256
	return []string{
		"gateway.INTERNAL", "api-gateway", "ACME.EXAMPLE\n", "shop", "SHOP FRONT", "ontend,o=acme",
		strings.ToUpper(fp[10:12] + ":" + fp[12:14] + ":" + fp[14:20]), fp[30:50], fp, certs[1].Serial[4:],
		"50%_", "%_o", "0%", "%", "_", "5_%", "_score", "r_s", `\`, `k\s`, `back\slash`,
		`"`, `""`, `quote"star`, `star*`, `*`, `-colon`, `minus-`, `colon:paren(`, `(`, `)`, `(x)`,
		"NEAR/2", "NEAR(", "{subject}", "{sans} :", "^shop", "shop AND", "shop OR plain", "NOT plain",
		":::", "a:b:", "'", "';--", "BÜCHER", "bücher.ex", "kva.ex", "ab", "zzz", "example",
	}
}

func testTextSearch(t *testing.T, e *env) {
	certs := searchFixture(t, e.s)
	byID := sortedByID(certs)
	for _, text := range searchTexts(certs) {
		f := inventory.CertificateFilter{Text: text}
		var want []int64
		for i := range byID {
			if matches(&byID[i], f) {
				want = append(want, byID[i].ID)
			}
		}
		got := listAllIDs(t, e.s, f, 2)
		if diff := gocmp.Diff(want, got); diff != "" {
			t.Errorf("Text %q (-want +got):\n%s", text, diff)
		}
		n, err := e.s.CountCertificates(context.Background(), f)
		if err != nil || n != len(want) {
			t.Errorf("CountCertificates(Text %q) = %d, %v; want %d", text, n, err, len(want))
		}
	}
	for text, want := range map[string]int{
		"gateway.INTERNAL": 1, "50%_": 1, "5_%": 0, "_": 2, "BÜCHER": 1, "example": 6, "NEAR/2": 1, `"`: 1,
		strings.ToUpper(certs[0].SHA256[10:12] + ":" + certs[0].SHA256[12:14] + ":" + certs[0].SHA256[14:20]): 1,
	} {
		if got := len(listAllIDs(t, e.s, inventory.CertificateFilter{Text: text}, 0)); got != want {
			t.Errorf("Text %q found %d certificates, want %d", text, got, want)
		}
	}
}

// testSearchUsesIndex checks that a text of three characters or more is
// answered from the trigram index, and shorter ones without it.
func testSearchUsesIndex(t *testing.T, e *env) {
	d := dbOf(e.s)
	for text, want := range map[string]bool{"gateway": true, "a:b:c": true, "ab": false, "a:b:": false} {
		where, args, err := d.certWhere(context.Background(), inventory.CertificateFilter{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		plan := explain(t, d, "SELECT c.id FROM certificates c"+whereClause(where)+" ORDER BY c.not_after, c.id LIMIT 50", args)
		if got := strings.Contains(plan, "certificates_search"); got != want {
			t.Errorf("Text %q: plan uses certificates_search = %v, want %v; plan:\n%s", text, got, want, plan)
		}
	}
}

// explain returns the query plan of query. On PostgreSQL sequential scans
// are disabled, so that a tiny table does not hide an index that cannot
// be used.
func explain(t *testing.T, d *db, query string, args []any) string {
	t.Helper()
	ctx := context.Background()
	tx, err := d.wdb.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	prefix := "EXPLAIN QUERY PLAN "
	if d.dialect == postgresDialect {
		prefix = "EXPLAIN "
		if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := tx.QueryContext(ctx, d.q(prefix+query), args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			b.WriteString(strings.TrimSpace(strings.ReplaceAll(strings.TrimSpace(toString(v)), "\n", " ")) + " ")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func toString(v any) string {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case string:
		return v
	}
	return ""
}

// testSearchIndexInStep checks that the search follows changes made to
// certificates outside PutCertificates too: on SQLite the triggers keep
// the FTS5 index in step (its integrity check compares it with the table).
func testSearchIndexInStep(t *testing.T, e *env) {
	d := dbOf(e.s)
	ctx := context.Background()
	certs := searchFixture(t, e.s)
	check := func(step string) {
		t.Helper()
		if d.dialect != sqliteDialect {
			return
		}
		_, err := d.w.ExecContext(ctx, "INSERT INTO certificates_search (certificates_search, rank) VALUES ('integrity-check', 1)")
		if err != nil {
			t.Errorf("%s: FTS5 integrity check: %v", step, err)
		}
	}
	check("after insert")
	if _, err := d.w.ExecContext(ctx, d.q("UPDATE certificates SET sans = 'renamed.example' WHERE id = ?"), certs[5].ID); err != nil {
		t.Fatal(err)
	}
	check("after update")
	if _, err := d.w.ExecContext(ctx, d.q("DELETE FROM certificates WHERE id = ?"), certs[4].ID); err != nil {
		t.Fatal(err)
	}
	check("after delete")
	for text, want := range map[string]int{"renamed": 1, "plain.example": 0, "under_score": 0} {
		if got := len(listAllIDs(t, e.s, inventory.CertificateFilter{Text: text}, 0)); got != want {
			t.Errorf("Text %q found %d certificates, want %d", text, got, want)
		}
	}
}

// TestSearchMigrationIndexesStoredCertificates checks that 0007 indexes
// the certificates stored before it.
func TestSearchMigrationIndexesStoredCertificates(t *testing.T) {
	onEmptyDatabases(t, func(t *testing.T, d *db) {
		ctx := context.Background()
		all := migrateBefore(t, d, 7)
		// Store certificates as the code before 0007 did: without
		// adding them to a search index.
		recs := searchRecords()
		for _, c := range recs {
			insertOldCertificate(t, d, c)
		}
		if err := d.apply(ctx, all); err != nil {
			t.Fatal(err)
		}
		id := func(i int) int64 {
			c, err := d.CertificateBySHA256(ctx, recs[i].SHA256)
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		for text, want := range map[string]int64{"gateway.INTERNAL": id(0), "50%_": id(1), "ACME": id(0)} {
			if got := listAllIDs(t, d, inventory.CertificateFilter{Text: text}, 0); !gocmp.Equal(got, []int64{want}) {
				t.Errorf("Text %q after migration = %v, want [%d]", text, got, want)
			}
		}
	})
}

// testTextSearchBroad checks texts with more candidates than ftsNarrow,
// which SQLite answers by reading certificates in list order.
func testTextSearchBroad(t *testing.T, e *env) {
	now := time.Now().UTC().Truncate(time.Second)
	ca := fakeCertificate(-1, &inventory.Certificate{}, now)
	recs := make([]*inventory.Certificate, ftsNarrow+200)
	for i := range recs {
		recs[i] = fakeCertificate(i, ca, now.Add(time.Duration(i%97)*time.Hour))
	}
	putCerts(t, e.s, recs...)
	all := listAll(t, e.s)
	for _, text := range []string{"example.test", "EXAMPLE.TEST", "www.host-1", "host-1", "t-11", "host-1199.", "nothing.here"} {
		f := inventory.CertificateFilter{Text: text}
		var want []int64
		for i := range all {
			if matches(&all[i], f) {
				want = append(want, all[i].ID)
			}
		}
		if diff := gocmp.Diff(want, listAllIDs(t, e.s, f, 50)); diff != "" {
			t.Errorf("Text %q (-want +got):\n%s", text, diff)
		}
	}
}

// listAll returns every stored certificate in list order.
func listAll(t *testing.T, s inventory.Store) []inventory.Certificate {
	t.Helper()
	var out []inventory.Certificate
	for p := (inventory.Page{Limit: inventory.MaxPageSize}); ; {
		page, err := s.ListCertificates(context.Background(), inventory.CertificateFilter{}, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out
		}
		p.After = page.Next
	}
}

func TestFTSQuery(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"abc", `"abc"`},
		{"abcdefg", `"abc" AND "def" AND "efg"`},
		{"abcdef", `"abc" AND "def"`},
		{"aaaaaaa", `"aaa"`},
		{`a"b*c(d`, `"a""b" AND "*c(" AND "c(d"`},
		{"bücher", `"büc" AND "her"`},
		{"ab:cd", `("ab:" AND ":cd") OR ("abc" AND "bcd")`},
	} {
		if got := ftsQuery(tc.text, strings.ReplaceAll(tc.text, ":", "")); got != tc.want {
			t.Errorf("ftsQuery(%q) = %s, want %s", tc.text, got, tc.want)
		}
	}
}
