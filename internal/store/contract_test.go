package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// env is what one contract subtest gets: a fresh store, and how to open
// its database again.
type env struct {
	b   backend
	loc string
	s   inventory.Store
}

var contractCases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"Keys", testKeys},
	{"KeyLinkKeyFirst", testKeyLinkKeyFirst},
	{"KeyLinkCertFirst", testKeyLinkCertFirst},
	{"CSR", testCSR},
	{"CertificatesIdempotent", testCertificatesIdempotent},
	{"IssuerLinkingOrders", testIssuerLinkingOrders},
	{"IssuerLinkingKeyIDs", testIssuerLinkingKeyIDs},
	{"FiltersAndPagination", testFiltersAndPagination},
	{"StatusBoundaries", testStatusBoundaries},
	{"TextSearch", testTextSearch},
	{"TextSearchBroad", testTextSearchBroad},
	{"TextSearchUsesIndex", testSearchUsesIndex},
	{"TextSearchIndexInStep", testSearchIndexInStep},
	{"NotFound", testNotFound},
	{"Audit", testAudit},
	{"RewrapKeys", testRewrapKeys},
	{"SealedSamples", testSealedSamples},
	{"ImportBatch", testImportBatch},
	{"InTxRollsBack", testInTxRollsBack},
	{"InTxCommits", testInTxCommits},
	{"ConcurrentPutCertificates", testConcurrentPut},
	{"MigrationsRerun", testMigrationsRerun},
	{"FailedMigration", testFailedMigration},
	{"ConcurrentOpen", testConcurrentOpen},
	{"ReopenKeepsData", testReopenKeepsData},
}

// TestStoreContract runs the inventory.Store contract against every
// backend: SQLite in a temporary directory and PostgreSQL from
// CERTKEEPER_TEST_POSTGRES (skipped, or failed in strict mode, when unset).
func TestStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range contractCases {
				t.Run(tc.name, func(t *testing.T) {
					loc := b.fresh(t)
					tc.run(t, &env{b: b, loc: loc, s: openStore(t, b, loc)})
				})
			}
		})
	}
}

func putCerts(t *testing.T, s inventory.Store, certs ...*inventory.Certificate) []inventory.PutResult {
	t.Helper()
	res, err := s.PutCertificates(context.Background(), certs)
	if err != nil {
		t.Fatalf("PutCertificates: %v", err)
	}
	if len(res) != len(certs) {
		t.Fatalf("PutCertificates returned %d results, want %d", len(res), len(certs))
	}
	return res
}

func getCert(t *testing.T, s inventory.Store, id int64) *inventory.Certificate {
	t.Helper()
	c, err := s.GetCertificate(context.Background(), id)
	if err != nil {
		t.Fatalf("GetCertificate(%d): %v", id, err)
	}
	return c
}

func putKey(t *testing.T, s inventory.Store, k *inventory.Key) (int64, bool) {
	t.Helper()
	id, added, err := s.PutKey(context.Background(), k)
	if err != nil {
		t.Fatalf("PutKey: %v", err)
	}
	return id, added
}

func testKeys(t *testing.T, e *env) {
	ctx := context.Background()
	k := keyRecord(t, newKey(t))
	k.Labels = []string{"prod", "web"}
	id, added := putKey(t, e.s, k)
	if !added || id == 0 {
		t.Fatalf("first PutKey = (%d, %v), want a new ID and added", id, added)
	}
	if id2, added2 := putKey(t, e.s, k); id2 != id || added2 {
		t.Fatalf("second PutKey = (%d, %v), want (%d, false)", id2, added2, id)
	}
	got, err := e.s.GetKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := *k
	want.ID = id
	if diff := cmp.Diff(&want, got, cmpopts.IgnoreFields(inventory.Key{}, "CreatedAt")); diff != "" {
		t.Errorf("GetKey mismatch (-want +got):\n%s", diff)
	}
	if time.Since(got.CreatedAt) > time.Minute || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want about now in UTC", got.CreatedAt)
	}
	bySPKI, err := e.s.KeyBySPKI(ctx, k.SPKISHA256)
	if err != nil || bySPKI.ID != id {
		t.Fatalf("KeyBySPKI = %v, %v; want ID %d", bySPKI, err, id)
	}
	ids := []int64{id}
	for range 6 {
		kid, _ := putKey(t, e.s, keyRecord(t, newKey(t)))
		ids = append(ids, kid)
	}
	var listed []int64
	for p := (inventory.Page{Limit: 3}); ; {
		keys, next, err := e.s.ListKeys(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			listed = append(listed, k.ID)
		}
		if next == "" {
			break
		}
		p.After = next
	}
	if diff := cmp.Diff(ids, listed); diff != "" {
		t.Errorf("ListKeys IDs (-want +got):\n%s", diff)
	}
}

func testKeyLinkKeyFirst(t *testing.T, e *env) {
	h := newHierarchy(t, "KeyFirst")
	kid, _ := putKey(t, e.s, keyRecord(t, h.leaf.key))
	res := putCerts(t, e.s, record(h.leaf))
	if got := getCert(t, e.s, res[0].ID).KeyID; got != kid {
		t.Errorf("certificate KeyID = %d, want %d", got, kid)
	}
	if got := getCert(t, e.s, putCerts(t, e.s, record(h.inter))[0].ID).KeyID; got != 0 {
		t.Errorf("certificate without stored key has KeyID %d, want 0", got)
	}
}

func testKeyLinkCertFirst(t *testing.T, e *env) {
	h := newHierarchy(t, "CertFirst")
	res := putCerts(t, e.s, record(h.leaf))
	if got := getCert(t, e.s, res[0].ID).KeyID; got != 0 {
		t.Fatalf("KeyID before the key is stored = %d, want 0", got)
	}
	kid, _ := putKey(t, e.s, keyRecord(t, h.leaf.key))
	if got := getCert(t, e.s, res[0].ID).KeyID; got != kid {
		t.Errorf("KeyID after PutKey = %d, want %d", got, kid)
	}
}

func testCSR(t *testing.T, e *env) {
	ctx := context.Background()
	key := newKey(t)
	kr := keyRecord(t, key)
	csr := &inventory.CSR{Subject: "CN=req", SANs: []string{"a.test", "b.test"}, SPKISHA256: kr.SPKISHA256, DER: []byte{0x30, 1, 2}}
	before, err := e.s.PutCSR(ctx, csr)
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := putKey(t, e.s, kr)
	after, err := e.s.PutCSR(ctx, csr)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{before, after} {
		got, err := e.s.GetCSR(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := *csr
		want.ID, want.KeyID = id, kid
		if diff := cmp.Diff(&want, got, cmpopts.IgnoreFields(inventory.CSR{}, "CreatedAt")); diff != "" {
			t.Errorf("GetCSR(%d) mismatch (-want +got):\n%s", id, diff)
		}
	}
}

func testCertificatesIdempotent(t *testing.T, e *env) {
	h := newHierarchy(t, "Idem")
	recs := []*inventory.Certificate{record(h.root), record(h.inter), record(h.leaf)}
	recs[2].Labels = []string{"prod"}
	first := putCerts(t, e.s, recs...)
	for i, r := range first {
		if !r.Added || r.ID == 0 {
			t.Errorf("first put, item %d = %+v, want added", i, r)
		}
	}
	again := record(h.leaf)
	again.Labels = []string{"web"}
	second := putCerts(t, e.s, record(h.root), record(h.inter), again, record(h.leaf))
	for i, r := range second {
		want := inventory.PutResult{ID: first[min(i, 2)].ID}
		if r != want {
			t.Errorf("second put, item %d = %+v, want %+v", i, r, want)
		}
	}
	got := getCert(t, e.s, first[2].ID)
	want := record(h.leaf)
	want.ID, want.IssuerID, want.Labels = first[2].ID, first[1].ID, []string{"prod", "web"}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(inventory.Certificate{}, "CreatedAt")); diff != "" {
		t.Errorf("stored leaf mismatch (-want +got):\n%s", diff)
	}
	bySHA, err := e.s.CertificateBySHA256(context.Background(), want.SHA256)
	if err != nil || bySHA.ID != want.ID {
		t.Errorf("CertificateBySHA256 = %v, %v; want ID %d", bySHA, err, want.ID)
	}
}

func testIssuerLinkingOrders(t *testing.T, e *env) {
	orders := []struct {
		name    string
		batches [][]int // indexes into root, inter, leaf
	}{
		{"leaf-inter-root separately", [][]int{{2}, {1}, {0}}},
		{"root-inter-leaf separately", [][]int{{0}, {1}, {2}}},
		{"leaf-inter-root one batch", [][]int{{2, 1, 0}}},
		{"root-inter-leaf one batch", [][]int{{0, 1, 2}}},
		{"inter, then leaf+root", [][]int{{1}, {2, 0}}},
	}
	for i, o := range orders {
		t.Run(o.name, func(t *testing.T) {
			h := newHierarchy(t, fmt.Sprintf("Order%d", i))
			all := []*issued{h.root, h.inter, h.leaf}
			ids := make([]int64, 3)
			for _, batch := range o.batches {
				var recs []*inventory.Certificate
				for _, j := range batch {
					recs = append(recs, record(all[j]))
				}
				for k, r := range putCerts(t, e.s, recs...) {
					ids[batch[k]] = r.ID
				}
			}
			checkChain(t, e.s, ids[2], []int64{ids[2], ids[1], ids[0]})
			checkChain(t, e.s, ids[0], []int64{ids[0]})
		})
	}
}

func checkChain(t *testing.T, s inventory.Store, id int64, want []int64) {
	t.Helper()
	chain, err := s.Chain(context.Background(), id)
	if err != nil {
		t.Fatalf("Chain(%d): %v", id, err)
	}
	var got []int64
	for _, c := range chain {
		got = append(got, c.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Chain(%d) IDs (-want +got):\n%s", id, diff)
	}
	if root := chain[len(chain)-1]; root.SelfSigned && root.IssuerID != 0 {
		t.Errorf("self-signed root has IssuerID %d, want 0", root.IssuerID)
	}
}

// testIssuerLinkingKeyIDs checks the key-identifier rule: a matching or
// absent AKI links by DN, a different AKI does not, in both orders.
func testIssuerLinkingKeyIDs(t *testing.T, e *env) {
	for _, caFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("caFirst=%v", caFirst), func(t *testing.T) {
			ca := fakeCertificate(1, &inventory.Certificate{}, time.Now().Add(time.Hour))
			ca.Subject = fmt.Sprintf("CN=Fake CA %v", caFirst)
			ca.Issuer, ca.IsCA, ca.SelfSigned, ca.AuthorityKeyID = ca.Subject, true, true, ""
			match, noAKI, other := fakeCertificate(2, ca, ca.NotAfter), fakeCertificate(3, ca, ca.NotAfter), fakeCertificate(4, ca, ca.NotAfter)
			for i, c := range []*inventory.Certificate{ca, match, noAKI, other} {
				c.SHA256 = fmt.Sprintf("%v-%d-%s", caFirst, i, c.SHA256[:20])
			}
			noAKI.AuthorityKeyID, other.AuthorityKeyID = "", "0123"
			var res []inventory.PutResult
			if caFirst {
				res = putCerts(t, e.s, ca, match, noAKI, other)
			} else {
				leafs := putCerts(t, e.s, match, noAKI, other)
				res = append(putCerts(t, e.s, ca), leafs...)
			}
			for i, want := range []int64{0, res[0].ID, res[0].ID, 0} {
				if got := getCert(t, e.s, res[i].ID).IssuerID; got != want {
					t.Errorf("item %d IssuerID = %d, want %d", i, got, want)
				}
			}
		})
	}
}

func testNotFound(t *testing.T, e *env) {
	ctx := context.Background()
	checks := map[string]func() error{
		"GetCertificate":      func() error { _, err := e.s.GetCertificate(ctx, 4242); return err },
		"CertificateBySHA256": func() error { _, err := e.s.CertificateBySHA256(ctx, "00"); return err },
		"Chain":               func() error { _, err := e.s.Chain(ctx, 4242); return err },
		"GetKey":              func() error { _, err := e.s.GetKey(ctx, 4242); return err },
		"KeyBySPKI":           func() error { _, err := e.s.KeyBySPKI(ctx, "00"); return err },
		"GetCSR":              func() error { _, err := e.s.GetCSR(ctx, 4242); return err },
	}
	for name, f := range checks {
		if err := f(); !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("%s error = %v, want inventory.ErrNotFound", name, err)
		}
	}
	_, err := e.s.ListCertificates(ctx, inventory.CertificateFilter{}, inventory.Page{After: "not a cursor!"})
	if !errors.Is(err, inventory.ErrBadCursor) {
		t.Errorf("ListCertificates with a bad cursor: error = %v, want ErrBadCursor", err)
	}
}

func testAudit(t *testing.T, e *env) {
	ctx := context.Background()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var want []inventory.AuditEvent
	for i := range 5 {
		ev := inventory.AuditEvent{Time: base.Add(time.Duration(i) * time.Minute), Actor: "admin",
			Action: "certificate.import", Object: fmt.Sprintf("certificate:%d", i), Summary: "imported"}
		if err := e.s.AppendAudit(ctx, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.ID == 0 {
			t.Fatal("AppendAudit left ID zero")
		}
		want = append(want, ev)
	}
	got := listAllAudit(t, e.s, time.Time{})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListAudit (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[2:], listAllAudit(t, e.s, base.Add(2*time.Minute))); diff != "" {
		t.Errorf("ListAudit since the third event (-want +got):\n%s", diff)
	}
	newest := slices.Clone(want)
	slices.Reverse(newest)
	if diff := cmp.Diff(newest, listAuditNewest(t, e.s, time.Time{})); diff != "" {
		t.Errorf("ListAuditNewest (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(newest[:3], listAuditNewest(t, e.s, base.Add(2*time.Minute))); diff != "" {
		t.Errorf("ListAuditNewest since the third event (-want +got):\n%s", diff)
	}
	now := inventory.AuditEvent{Actor: "system", Action: "startup"}
	if err := e.s.AppendAudit(ctx, &now); err != nil {
		t.Fatal(err)
	}
	if time.Since(now.Time) > time.Minute {
		t.Errorf("zero Time was stored as %v, want about now", now.Time)
	}
}

func listAuditNewest(t *testing.T, s inventory.Store, since time.Time) []inventory.AuditEvent {
	t.Helper()
	var out []inventory.AuditEvent
	for p := (inventory.Page{Limit: 2}); ; {
		evs, next, err := s.ListAuditNewest(context.Background(), since, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, evs...)
		if next == "" {
			return out
		}
		p.After = next
	}
}

func listAllAudit(t *testing.T, s inventory.Store, since time.Time) []inventory.AuditEvent {
	t.Helper()
	var out []inventory.AuditEvent
	for p := (inventory.Page{Limit: 2}); ; {
		evs, next, err := s.ListAudit(context.Background(), since, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, evs...)
		if next == "" {
			return out
		}
		p.After = next
	}
}

func testRewrapKeys(t *testing.T, e *env) {
	ctx := context.Background()
	const n = 2*rewrapChunk + 50
	var ids []int64
	for i := range n {
		k := &inventory.Key{SPKISHA256: fmt.Sprintf("%064x", i+1), Algorithm: inventory.ECDSA, Bits: 256, Sealed: []byte("v1")}
		id, _ := putKey(t, e.s, k)
		ids = append(ids, id)
	}
	failing := func(b []byte) ([]byte, error) {
		if string(b) != "v1" {
			return nil, fmt.Errorf("unexpected %q", b)
		}
		return nil, errors.New("master key unavailable")
	}
	calls := 0
	partly := func(b []byte) ([]byte, error) {
		if calls++; calls > n-10 {
			return failing(b)
		}
		return []byte("v2"), nil
	}
	if _, err := e.s.RewrapKeys(ctx, partly); err == nil {
		t.Fatal("RewrapKeys with a failing rewrap succeeded")
	}
	checkSealed(t, e.s, ids, "v1")
	count, err := e.s.RewrapKeys(ctx, func(b []byte) ([]byte, error) { return append(b, "+v2"...), nil })
	if err != nil || count != n {
		t.Fatalf("RewrapKeys = %d, %v; want %d, nil", count, err, n)
	}
	checkSealed(t, e.s, ids, "v1+v2")
}

func checkSealed(t *testing.T, s inventory.Store, ids []int64, want string) {
	t.Helper()
	for _, id := range ids {
		k, err := s.GetKey(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if string(k.Sealed) != want {
			t.Fatalf("key %d sealed = %q, want %q", id, k.Sealed, want)
		}
	}
}

func testConcurrentPut(t *testing.T, e *env) {
	ca := fakeCertificate(0, &inventory.Certificate{}, time.Now().Add(1000*time.Hour))
	ca.Subject, ca.IsCA, ca.SelfSigned = "CN=Concurrent CA", true, true
	ca.Issuer = ca.Subject
	putCerts(t, e.s, ca)
	const workers, perWorker, batch = 8, 400, 100
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			// Each worker overlaps half of its range with the next worker's.
			for start := w * perWorker / 2; start < w*perWorker/2+perWorker; start += batch {
				var recs []*inventory.Certificate
				for i := start; i < start+batch; i++ {
					recs = append(recs, fakeCertificate(i+1, ca, time.Now().Add(time.Duration(i)*time.Hour)))
				}
				if _, err := e.s.PutCertificates(context.Background(), recs); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent PutCertificates: %v", err)
	}
	leafs := inventory.CertificateFilter{LeafOnly: true}
	n, err := e.s.CountCertificates(context.Background(), leafs)
	if want := (workers + 1) * perWorker / 2; err != nil || n != want {
		t.Fatalf("CountCertificates = %d, %v; want %d", n, err, want)
	}
	page, err := e.s.ListCertificates(context.Background(), leafs, inventory.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Items {
		if c.IssuerID == 0 {
			t.Errorf("certificate %d has no issuer link", c.ID)
		}
	}
}

func testMigrationsRerun(t *testing.T, e *env) {
	for range 2 {
		openStore(t, e.b, e.loc)
	}
	var n, want int
	if err := dbOf(e.s).rdb.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	all, err := migrations(dbOf(e.s).dialect)
	if want = len(all); err != nil || n != want {
		t.Errorf("schema_migrations has %d rows (%v), want %d", n, err, want)
	}
}

func testConcurrentOpen(t *testing.T, e *env) {
	loc := e.b.fresh(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			s, err := e.b.open(context.Background(), loc)
			if err == nil {
				_, err = s.PutCertificates(context.Background(), []*inventory.Certificate{
					fakeCertificate(i, &inventory.Certificate{}, time.Now())})
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Open %d: %v", i, err)
		}
	}
}

func testReopenKeepsData(t *testing.T, e *env) {
	h := newHierarchy(t, "Reopen")
	res := putCerts(t, e.s, record(h.root), record(h.leaf))
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, e.b, e.loc)
	if got := getCert(t, s, res[1].ID); got.SHA256 != record(h.leaf).SHA256 {
		t.Errorf("after reopening, certificate %d has sha256 %s, want %s", res[1].ID, got.SHA256, record(h.leaf).SHA256)
	}
	if e.b.name != "sqlite" {
		return
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		fi, err := os.Stat(e.loc + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s mode = %v, want 0600", fi.Name(), mode)
		}
	}
}

func dbOf(s inventory.Store) *db {
	switch v := s.(type) {
	case *SQLite:
		return v.db
	case *Postgres:
		return v.db
	}
	panic(fmt.Sprintf("unknown store %T", s))
}

// testFailedMigration checks that a failing migration changes nothing: its
// statements before the error are rolled back and it is not recorded.
func testFailedMigration(t *testing.T, e *env) {
	bad := migration{version: 9999, name: "9999_bad.sql",
		sql: "CREATE TABLE half_done (id INTEGER PRIMARY KEY); INSERT INTO no_such_table VALUES (1);"}
	d := dbOf(e.s)
	if err := d.apply(context.Background(), []migration{bad}); err == nil {
		t.Fatal("a failing migration was applied without error")
	}
	var n int
	if err := d.rdb.QueryRow("SELECT count(*) FROM schema_migrations WHERE version = 9999").Scan(&n); err != nil || n != 0 {
		t.Errorf("failed migration recorded: count %d, %v", n, err)
	}
	if _, err := d.rdb.Exec("SELECT count(*) FROM half_done"); err == nil {
		t.Error("table from the failed migration exists")
	}
}

func TestOpenPicksBackend(t *testing.T) {
	s, err := Open(context.Background(), t.TempDir()+"/sub/dir/ck.db")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.(*SQLite); !ok {
		t.Errorf("Open(file path) = %T, want *SQLite", s)
	}
	for _, dsn := range []string{"postgres://127.0.0.1:1/x", "postgresql://127.0.0.1:1/x"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := Open(ctx, dsn)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "postgres") {
			t.Errorf("Open(%q) error = %v, want a PostgreSQL connection error", dsn, err)
		}
	}
}

func testSealedSamples(t *testing.T, e *env) {
	ctx := context.Background()
	got, err := e.s.SealedSamples(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("SealedSamples of an empty inventory = %q, %v; want none", got, err)
	}
	first, last := keyRecord(t, newKey(t)), keyRecord(t, newKey(t))
	putKey(t, e.s, first)
	putKey(t, e.s, last)
	got, err = e.s.SealedSamples(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{first.Sealed, last.Sealed}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SealedSamples (-want +got):\n%s", diff)
	}
}

func TestOpenExistingCreatesNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, path := range []string{filepath.Join(dir, "ck.db"), filepath.Join(dir, "sub", "ck.db")} {
		if _, err := OpenExisting(ctx, path); !errors.Is(err, ErrNoInventory) || !strings.Contains(err.Error(), path) {
			t.Errorf("OpenExisting(%s) error = %v, want ErrNoInventory naming the path", path, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("OpenExisting created %v", ents)
	}
	s, err := Open(ctx, filepath.Join(dir, "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenExisting(ctx, filepath.Join(dir, "ck.db"))
	if err != nil {
		t.Fatalf("OpenExisting of an existing inventory: %v", err)
	}
	s.Close()
}

func TestCheckLocation(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"/var/lib/certkeeper/certkeeper.db", true},
		{"certkeeper.db", true},
		{"./mysql:x.db", true},
		{`C:\certkeeper\ck.db`, true},
		{"postgres://u@h/db", true},
		{"postgresql://u@h/db", true},
		{"mysql://u:pw@h/db", false},
		{"sqlite3:///x.db", false},
		{"file:x.db", false},
		{"", false},
	} {
		err := CheckLocation(tc.in)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrUnsupported)) {
			t.Errorf("CheckLocation(%q) = %v, want ok %v", tc.in, err, tc.ok)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("CheckLocation(%q) error shows the password: %v", tc.in, err)
		}
	}
}

// testImportBatch: keys, certificates and audit events are stored
// together, or (when the transaction fails) none of them.
func testImportBatch(t *testing.T, e *env) {
	h := newHierarchy(t, "Batch")
	keys := []*inventory.Key{keyRecord(t, h.leaf.key)}
	certs := []*inventory.Certificate{record(h.leaf), record(h.inter)}
	audit := func(k, c []inventory.PutResult) []inventory.AuditEvent {
		return []inventory.AuditEvent{{Actor: "test", Action: "certificate.import", Object: "certificates",
			Summary: fmt.Sprintf("%d keys, %d certificates", len(k), len(c))}}
	}
	// A transaction that fails at its audit insert stores nothing.
	ctx, cancel := context.WithCancel(context.Background())
	_, err := e.s.ImportBatch(ctx, keys, certs, func(k, c []inventory.PutResult) []inventory.AuditEvent {
		cancel()
		return audit(k, c)
	})
	if err == nil {
		t.Fatal("ImportBatch with its context cancelled inside succeeded")
	}
	assertEmpty(t, e.s)

	res, err := e.s.ImportBatch(context.Background(), keys, certs, audit)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Keys) != 1 || !res.Keys[0].Added || len(res.Certificates) != 2 || !res.Certificates[0].Added {
		t.Fatalf("ImportBatch results = %+v, want a key and two certificates added", res)
	}
	if got := getCert(t, e.s, res.Certificates[0].ID).KeyID; got != res.Keys[0].ID {
		t.Errorf("leaf KeyID = %d, want the key stored with it (%d)", got, res.Keys[0].ID)
	}
	events, _, err := e.s.ListAudit(context.Background(), time.Time{}, inventory.Page{})
	if err != nil || len(events) != 1 || events[0].Summary != "1 keys, 2 certificates" {
		t.Errorf("audit after ImportBatch = %+v, %v; want the one event", events, err)
	}
	again, err := e.s.ImportBatch(context.Background(), keys, certs, audit)
	if err != nil || again.Keys[0].Added || again.Certificates[1].Added || again.Certificates[1].ID != res.Certificates[1].ID {
		t.Errorf("ImportBatch again = %+v, %v; want nothing added, same IDs", again, err)
	}
}

func assertEmpty(t *testing.T, s inventory.Store) {
	t.Helper()
	ctx := context.Background()
	n, _ := s.CountCertificates(ctx, inventory.CertificateFilter{})
	keys, _, _ := s.ListKeys(ctx, inventory.Page{})
	events, _, _ := s.ListAudit(ctx, time.Time{}, inventory.Page{})
	if n != 0 || len(keys) != 0 || len(events) != 0 {
		t.Fatalf("after a failed ImportBatch: %d certificates, %d keys, %d audit events; want none", n, len(keys), len(events))
	}
}
