package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var endpointContractCases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"EndpointRoundTrip", testEndpointRoundTrip},
	{"EndpointDuplicate", testEndpointDuplicate},
	{"EndpointResults", testEndpointResults},
	{"EndpointDueAndPrune", testEndpointDueAndPrune},
	{"EndpointResultsBatch", testEndpointResultsBatch},
}

// TestEndpointStoreContract runs the inventory.EndpointStore contract
// against every backend.
func TestEndpointStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range endpointContractCases {
				t.Run(tc.name, func(t *testing.T) {
					loc := b.fresh(t)
					tc.run(t, &env{b: b, loc: loc, s: openStore(t, b, loc)})
				})
			}
		})
	}
}

var t0 = time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)

func putEndpoint(t *testing.T, s inventory.Store, e *inventory.Endpoint) *inventory.Endpoint {
	t.Helper()
	if err := s.PutEndpoint(context.Background(), e); err != nil || e.ID == 0 {
		t.Fatalf("PutEndpoint(%s): ID %d, error %v", e.Address, e.ID, err)
	}
	return e
}

func testEndpointRoundTrip(t *testing.T, e *env) {
	ctx := context.Background()
	ep := putEndpoint(t, e.s, &inventory.Endpoint{Address: "www.example.com:443", ServerName: "www.example.com",
		StartTLS: "", Interval: 6 * time.Hour, Source: inventory.EndpointManual, Labels: []string{"web", "team-a"},
		CreatedAt: t0, NextCheckAt: t0.Add(time.Hour)})
	got, err := e.s.GetEndpoint(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ep, got); diff != "" {
		t.Errorf("GetEndpoint (-put +got):\n%s", diff)
	}
	ep.Address, ep.StartTLS, ep.Interval, ep.Labels = "mail.example.com:25", "smtp", 0, nil
	if err := e.s.UpdateEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	all, err := e.s.AllEndpoints(ctx)
	if err != nil || len(all) != 1 {
		t.Fatalf("AllEndpoints: %d endpoints, error %v; want 1", len(all), err)
	}
	if diff := cmp.Diff(*ep, all[0]); diff != "" {
		t.Errorf("after UpdateEndpoint (-want +got):\n%s", diff)
	}
	if err := e.s.DeleteEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.GetEndpoint(ctx, ep.ID); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("GetEndpoint after delete: %v, want ErrNotFound", err)
	}
	if err := e.s.DeleteEndpoint(ctx, ep.ID); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("DeleteEndpoint twice: %v, want ErrNotFound", err)
	}
	if err := e.s.PutEndpoint(ctx, &inventory.Endpoint{Address: "x:1", Source: "elsewhere"}); !errors.Is(err, inventory.ErrInvalid) {
		t.Errorf("PutEndpoint with an unknown source: %v, want ErrInvalid", err)
	}
}

func testEndpointDuplicate(t *testing.T, e *env) {
	ctx := context.Background()
	a := putEndpoint(t, e.s, &inventory.Endpoint{Address: "a:443", Source: inventory.EndpointCertificate, SourceID: 7})
	// The same address for another source, or another server name, is
	// another endpoint.
	putEndpoint(t, e.s, &inventory.Endpoint{Address: "a:443", Source: inventory.EndpointManual})
	b := putEndpoint(t, e.s, &inventory.Endpoint{Address: "a:443", ServerName: "b", Source: inventory.EndpointCertificate, SourceID: 7})
	err := e.s.PutEndpoint(ctx, &inventory.Endpoint{Address: "a:443", Source: inventory.EndpointCertificate, SourceID: 7})
	if !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("PutEndpoint duplicate: %v, want ErrConflict", err)
	}
	b.ServerName = ""
	if err := e.s.UpdateEndpoint(ctx, b); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("UpdateEndpoint onto %d: %v, want ErrConflict", a.ID, err)
	}
	if all, _ := e.s.AllEndpoints(ctx); len(all) != 3 {
		t.Errorf("AllEndpoints: %d, want 3", len(all))
	}
}

func result(id int64, at time.Time, errText string) *inventory.EndpointResult {
	r := &inventory.EndpointResult{EndpointID: id, Check: inventory.CheckResult{Time: at, Address: "a:443", Error: errText}}
	if errText == "" {
		r.Check.Passed, r.Check.DaysLeft = true, 30
		r.ChainSHA256 = []string{"aa", "bb"}
		r.LeafNotAfter, r.ChainNotAfter = at.Add(30*24*time.Hour), at.Add(30*24*time.Hour)
		r.LeafLifetime, r.ChainDaysLeft = 90*24*time.Hour, 30
	}
	return r
}

func testEndpointResults(t *testing.T, e *env) {
	ctx := context.Background()
	ep := putEndpoint(t, e.s, &inventory.Endpoint{Address: "a:443", Source: inventory.EndpointManual, CreatedAt: t0})
	var recorded []*inventory.EndpointResult
	for i, errText := range []string{"", "connection refused", "timeout", ""} {
		r := result(ep.ID, t0.Add(time.Duration(i)*time.Hour), errText)
		if err := e.s.RecordEndpointResult(ctx, r, t0.Add(time.Duration(i+1)*time.Hour)); err != nil {
			t.Fatal(err)
		}
		recorded = append(recorded, r)
		got, _ := e.s.GetEndpoint(ctx, ep.ID)
		if want := []int{0, 1, 2, 0}[i]; got.Failures != want {
			t.Errorf("after result %d: Failures %d, want %d", i, got.Failures, want)
		}
		if diff := cmp.Diff(r, got.Last); diff != "" {
			t.Errorf("Last after result %d (-recorded +got):\n%s", i, diff)
		}
	}
	page, next, err := e.s.EndpointHistory(ctx, ep.ID, inventory.Page{Limit: 3})
	if err != nil || len(page) != 3 || next == "" {
		t.Fatalf("EndpointHistory: %d results, next %q, error %v; want 3 and a cursor", len(page), next, err)
	}
	rest, next2, err := e.s.EndpointHistory(ctx, ep.ID, inventory.Page{Limit: 3, After: next})
	if err != nil || len(rest) != 1 || next2 != "" {
		t.Fatalf("EndpointHistory page 2: %d results, next %q, error %v; want 1, no cursor", len(rest), next2, err)
	}
	for i, r := range append(page, rest...) {
		if want := recorded[3-i]; r.ID != want.ID {
			t.Errorf("history[%d] is result %d, want %d (newest first)", i, r.ID, want.ID)
		}
	}
	if err := e.s.RecordEndpointResult(ctx, result(ep.ID+99, t0, ""), t0); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("RecordEndpointResult for an unknown endpoint: %v, want ErrNotFound", err)
	}
}

func testEndpointDueAndPrune(t *testing.T, e *env) {
	ctx := context.Background()
	late := putEndpoint(t, e.s, &inventory.Endpoint{Address: "a:443", Source: inventory.EndpointManual, NextCheckAt: t0.Add(-2 * time.Hour)})
	early := putEndpoint(t, e.s, &inventory.Endpoint{Address: "b:443", Source: inventory.EndpointManual, NextCheckAt: t0.Add(-time.Hour)})
	putEndpoint(t, e.s, &inventory.Endpoint{Address: "c:443", Source: inventory.EndpointManual, NextCheckAt: t0.Add(time.Second)})
	due, err := e.s.DueEndpoints(ctx, t0, 10)
	if err != nil || len(due) != 2 || due[0].ID != late.ID || due[1].ID != early.ID {
		t.Fatalf("DueEndpoints: %+v, error %v; want endpoints %d then %d", due, err, late.ID, early.ID)
	}
	if due, _ := e.s.DueEndpoints(ctx, t0, 1); len(due) != 1 {
		t.Errorf("DueEndpoints limit 1: %d endpoints", len(due))
	}
	for _, at := range []time.Time{t0.Add(-100 * 24 * time.Hour), t0.Add(-95 * 24 * time.Hour), t0} {
		if err := e.s.RecordEndpointResult(ctx, result(late.ID, at, ""), t0.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// early's only result is old but it is its latest: it stays.
	if err := e.s.RecordEndpointResult(ctx, result(early.ID, t0.Add(-200*24*time.Hour), ""), t0); err != nil {
		t.Fatal(err)
	}
	n, err := e.s.PruneEndpointResults(ctx, t0.Add(-90*24*time.Hour))
	if err != nil || n != 2 {
		t.Errorf("PruneEndpointResults: %d, error %v; want 2", n, err)
	}
	for id, want := range map[int64]int{late.ID: 1, early.ID: 1} {
		if h, _, _ := e.s.EndpointHistory(ctx, id, inventory.Page{}); len(h) != want {
			t.Errorf("endpoint %d keeps %d results, want %d", id, len(h), want)
		}
	}
	if due, _ := e.s.DueEndpoints(ctx, t0, 10); len(due) != 1 || due[0].ID != early.ID {
		t.Errorf("DueEndpoints after recording: %+v, want only %d", due, early.ID)
	}
}

// testEndpointResultsBatch: RecordEndpointResults records like
// RecordEndpointResult, in order (two results of one endpoint count two
// failures), skips the result of an endpoint that is gone, and belongs
// to the transaction it runs in.
func testEndpointResultsBatch(t *testing.T, e *env) {
	ctx := context.Background()
	a := putEndpoint(t, e.s, &inventory.Endpoint{Address: "a:443", Source: inventory.EndpointManual, CreatedAt: t0})
	b := putEndpoint(t, e.s, &inventory.Endpoint{Address: "b:443", Source: inventory.EndpointManual, CreatedAt: t0})
	gone := putEndpoint(t, e.s, &inventory.Endpoint{Address: "c:443", Source: inventory.EndpointManual, CreatedAt: t0})
	if err := e.s.DeleteEndpoint(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	recs := []inventory.EndpointRecord{
		{Result: result(a.ID, t0, "refused"), Next: t0.Add(time.Hour)},
		{Result: result(gone.ID, t0, ""), Next: t0.Add(time.Hour)},
		{Result: result(b.ID, t0.Add(time.Minute), ""), Next: t0.Add(3 * time.Hour)},
		{Result: result(a.ID, t0.Add(2*time.Minute), "timeout"), Next: t0.Add(2 * time.Hour)},
	}
	n, err := e.s.RecordEndpointResults(ctx, recs)
	if err != nil || n != 3 {
		t.Fatalf("RecordEndpointResults: %d recorded, error %v; want 3", n, err)
	}
	if recs[1].Result.ID != 0 {
		t.Errorf("the result of a removed endpoint has ID %d, want 0", recs[1].Result.ID)
	}
	for _, c := range []struct {
		ep       *inventory.Endpoint
		last     *inventory.EndpointResult
		failures int
		next     time.Time
		history  int
	}{{a, recs[3].Result, 2, t0.Add(2 * time.Hour), 2}, {b, recs[2].Result, 0, t0.Add(3 * time.Hour), 1}} {
		got, err := e.s.GetEndpoint(ctx, c.ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c.last, got.Last); diff != "" || c.last.ID == 0 {
			t.Errorf("endpoint %d: Last (-recorded +got):\n%s", c.ep.ID, diff)
		}
		if got.Failures != c.failures || !got.NextCheckAt.Equal(c.next) {
			t.Errorf("endpoint %d: failures %d, next check %v; want %d, %v", c.ep.ID, got.Failures, got.NextCheckAt, c.failures, c.next)
		}
		if h, _, _ := e.s.EndpointHistory(ctx, c.ep.ID, inventory.Page{}); len(h) != c.history {
			t.Errorf("endpoint %d keeps %d results, want %d", c.ep.ID, len(h), c.history)
		}
	}
	rollback := errors.New("roll back")
	err = e.s.InTx(ctx, func(tx inventory.Store) error {
		if n, err := tx.RecordEndpointResults(ctx, []inventory.EndpointRecord{{Result: result(b.ID, t0.Add(time.Hour), "refused"), Next: t0}}); err != nil || n != 1 {
			t.Errorf("RecordEndpointResults in a transaction: %d, %v; want 1", n, err)
		}
		return rollback
	})
	if got, _ := e.s.GetEndpoint(ctx, b.ID); !errors.Is(err, rollback) || got.Last.ID != recs[2].Result.ID || got.Failures != 0 {
		t.Errorf("after a rolled-back transaction: error %v, endpoint %d's last result %d, failures %d; want its earlier result %d, 0 failures",
			err, b.ID, got.Last.ID, got.Failures, recs[2].Result.ID)
	}
}
