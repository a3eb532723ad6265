package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestJobStoreContract runs the scheduler's part of inventory.JobStore
// (leader lease, job lease renewal, run history) against every backend.
func TestJobStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range []struct {
				name string
				run  func(t *testing.T, st inventory.JobStore)
			}{
				{"Leadership", testLeadership},
				{"RenewJob", testRenewJob},
				{"RunHistory", testRunHistory},
				{"TakeoverKeepsOneRowPerSlot", testTakeoverSlot},
				{"RequestInRanSlot", testRequestInRanSlot},
				{"HistoryPruned", testHistoryPruned},
			} {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, openStore(t, b, b.fresh(t)).(inventory.JobStore))
				})
			}
		})
	}
}

var jobT0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func testLeadership(t *testing.T, st inventory.JobStore) {
	ctx := context.Background()
	if _, err := st.JobLeader(ctx); !errors.Is(err, inventory.ErrNotFound) {
		t.Fatalf("JobLeader on a fresh store: %v, want ErrNotFound", err)
	}
	claim := func(owner string, now time.Time) inventory.Leader {
		t.Helper()
		l, err := st.ClaimLeadership(ctx, owner, now, now.Add(15*time.Second))
		if err != nil {
			t.Fatalf("ClaimLeadership(%s): %v", owner, err)
		}
		return l
	}
	if l := claim("a", jobT0); l.Owner != "a" || !l.Since.Equal(jobT0) || !l.LeaseUntil.Equal(jobT0.Add(15*time.Second)) {
		t.Fatalf("first claim: %+v, want a since t0", l)
	}
	if l := claim("b", jobT0.Add(10*time.Second)); l.Owner != "a" {
		t.Fatalf("claim under a's lease: %+v, want a to stay", l)
	}
	if l := claim("a", jobT0.Add(10*time.Second)); l.Owner != "a" || !l.Since.Equal(jobT0) || !l.LeaseUntil.Equal(jobT0.Add(25*time.Second)) {
		t.Fatalf("renewal: %+v, want a since t0 until t0+25s", l)
	}
	if l := claim("b", jobT0.Add(25*time.Second)); l.Owner != "b" || !l.Since.Equal(jobT0.Add(25*time.Second)) {
		t.Fatalf("claim after the lease: %+v, want b since t0+25s", l)
	}
	if err := st.ResignLeadership(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if l, err := st.JobLeader(ctx); err != nil || l.Owner != "b" || !l.LeaseUntil.After(jobT0.Add(30*time.Second)) {
		t.Fatalf("after a non-leader resigned: %+v, %v; want b's lease intact", l, err)
	}
	if err := st.ResignLeadership(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if l := claim("c", jobT0.Add(26*time.Second)); l.Owner != "c" {
		t.Fatalf("claim after b resigned: %+v, want c", l)
	}
}

func testRenewJob(t *testing.T, st inventory.JobStore) {
	ctx := context.Background()
	if err := st.EnsureJob(ctx, "tick", jobT0); err != nil {
		t.Fatal(err)
	}
	if err := st.RenewJob(ctx, "tick", "a", jobT0.Add(time.Minute)); !errors.Is(err, inventory.ErrConflict) {
		t.Fatalf("RenewJob of an unleased job: %v, want ErrConflict", err)
	}
	if j, err := st.ClaimJob(ctx, "tick", "a", jobT0, jobT0.Add(15*time.Second)); err != nil || j == nil {
		t.Fatalf("ClaimJob = %v, %v", j, err)
	}
	if err := st.RenewJob(ctx, "tick", "a", jobT0.Add(time.Minute)); err != nil {
		t.Fatalf("RenewJob by the holder: %v", err)
	}
	if j, err := st.ClaimJob(ctx, "tick", "b", jobT0.Add(30*time.Second), jobT0.Add(45*time.Second)); err != nil || j != nil {
		t.Fatalf("ClaimJob under a renewed lease = %v, %v; want nil", j, err)
	}
	if err := st.RenewJob(ctx, "tick", "b", jobT0.Add(time.Minute)); !errors.Is(err, inventory.ErrConflict) {
		t.Fatalf("RenewJob by another owner: %v, want ErrConflict", err)
	}
}

func testRunHistory(t *testing.T, st inventory.JobStore) {
	ctx := context.Background()
	if err := st.EnsureJob(ctx, "tick", jobT0); err != nil {
		t.Fatal(err)
	}
	j, err := st.ClaimJob(ctx, "tick", "a", jobT0.Add(time.Second), jobT0.Add(16*time.Second))
	if err != nil || j == nil || !j.RunSlot.Equal(jobT0) {
		t.Fatalf("ClaimJob = %+v, %v; want the slot t0", j, err)
	}
	runs, err := st.ListJobRuns(ctx, "tick", 10)
	if err != nil || len(runs) != 1 || runs[0].Owner != "a" || !runs[0].Finished.IsZero() || !runs[0].Started.Equal(jobT0.Add(time.Second)) {
		t.Fatalf("history while running: %+v, %v", runs, err)
	}
	run := inventory.JobRun{Finished: jobT0.Add(3 * time.Second), Duration: 2 * time.Second, Result: "failed", Error: "boom",
		NextRunAt: jobT0.Add(time.Hour), Attempts: 1}
	if err := st.FinishJob(ctx, "tick", "a", run); err != nil {
		t.Fatal(err)
	}
	runs, err = st.ListJobRuns(ctx, "tick", 10)
	want := inventory.JobRunRecord{Kind: "tick", Slot: jobT0, Owner: "a", Started: jobT0.Add(time.Second),
		Finished: jobT0.Add(3 * time.Second), Result: "failed", Error: "boom", Duration: 2 * time.Second}
	if err != nil || len(runs) != 1 || runs[0] != want {
		t.Fatalf("history after the run: %+v, %v; want %+v", runs, err, want)
	}
	if runs, err := st.ListJobRuns(ctx, "other", 10); err != nil || len(runs) != 0 {
		t.Fatalf("history of another kind: %+v, %v; want none", runs, err)
	}
}

// testTakeoverSlot: a run whose owner died is taken over in the same
// history row; the dead owner can no longer finish it.
func testTakeoverSlot(t *testing.T, st inventory.JobStore) {
	ctx := context.Background()
	if err := st.EnsureJob(ctx, "tick", jobT0); err != nil {
		t.Fatal(err)
	}
	if j, err := st.ClaimJob(ctx, "tick", "dead", jobT0, jobT0.Add(15*time.Second)); err != nil || j == nil {
		t.Fatalf("ClaimJob = %v, %v", j, err)
	}
	later := jobT0.Add(20 * time.Second)
	j, err := st.ClaimJob(ctx, "tick", "b", later, later.Add(15*time.Second))
	if err != nil || j == nil || !j.RunSlot.Equal(jobT0) {
		t.Fatalf("takeover = %+v, %v; want slot t0", j, err)
	}
	run := inventory.JobRun{Finished: later, Result: "ok", NextRunAt: later.Add(time.Hour)}
	if err := st.FinishJob(ctx, "tick", "dead", run); !errors.Is(err, inventory.ErrConflict) {
		t.Fatalf("FinishJob by the dead owner: %v, want ErrConflict", err)
	}
	if err := st.FinishJob(ctx, "tick", "b", run); err != nil {
		t.Fatal(err)
	}
	runs, err := st.ListJobRuns(ctx, "tick", 10)
	if err != nil || len(runs) != 1 || runs[0].Owner != "b" || runs[0].Result != "ok" || !runs[0].Slot.Equal(jobT0) {
		t.Fatalf("history: %+v, %v; want one run of slot t0 by b", runs, err)
	}
}

// testRequestInRanSlot: a run-now request in the second of a slot that
// ran already gets the next second as its slot, and runs.
func testRequestInRanSlot(t *testing.T, st inventory.JobStore) {
	ctx := context.Background()
	if err := st.EnsureJob(ctx, "tick", jobT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.RequestJob(ctx, "nope", jobT0); !errors.Is(err, inventory.ErrNotFound) {
		t.Fatalf("RequestJob of an unknown kind: %v, want ErrNotFound", err)
	}
	for i, want := range []time.Time{jobT0, jobT0.Add(time.Second)} {
		if err := st.RequestJob(ctx, "tick", jobT0); err != nil {
			t.Fatal(err)
		}
		j, err := st.ClaimJob(ctx, "tick", "a", jobT0, jobT0.Add(15*time.Second))
		if err != nil || j == nil || !j.RunSlot.Equal(want) {
			t.Fatalf("claim of request %d = %+v, %v; want slot %s", i, j, err, want)
		}
		if err := st.FinishJob(ctx, "tick", "a", inventory.JobRun{Finished: jobT0, Result: "ok", NextRunAt: jobT0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := st.ListJobRuns(ctx, "tick", 10)
	if err != nil || len(runs) != 2 {
		t.Fatalf("history: %+v, %v; want two runs", runs, err)
	}
}

func testHistoryPruned(t *testing.T, st inventory.JobStore) {
	ctx := context.Background()
	if err := st.EnsureJob(ctx, "tick", jobT0); err != nil {
		t.Fatal(err)
	}
	n := inventory.JobRunsKept + 5
	for i := range n {
		now := jobT0.Add(time.Duration(i) * time.Minute)
		if j, err := st.ClaimJob(ctx, "tick", "a", now, now.Add(15*time.Second)); err != nil || j == nil {
			t.Fatalf("ClaimJob %d = %v, %v", i, j, err)
		}
		if err := st.FinishJob(ctx, "tick", "a", inventory.JobRun{Finished: now, Result: "ok", NextRunAt: now.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := st.ListJobRuns(ctx, "tick", 1000)
	if err != nil || len(runs) != inventory.JobRunsKept {
		t.Fatalf("history holds %d runs (%v), want %d", len(runs), err, inventory.JobRunsKept)
	}
	if newest := jobT0.Add(time.Duration(n-1) * time.Minute); !runs[0].Slot.Equal(newest) {
		t.Fatalf("newest run's slot %s, want %s", runs[0].Slot, newest)
	}
}

// BenchmarkJobCycle measures one scheduler run's writes: the claim (with
// its history row) and the finish (with the history's pruning), on each
// backend.
func BenchmarkJobCycle(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			st := openStore(b, be, be.fresh(b)).(inventory.JobStore)
			ctx := context.Background()
			if err := st.EnsureJob(ctx, "tick", jobT0); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				now := jobT0.Add(time.Duration(i) * time.Second)
				if j, err := st.ClaimJob(ctx, "tick", "a", now, now.Add(15*time.Second)); err != nil || j == nil {
					b.Fatalf("ClaimJob = %v, %v", j, err)
				}
				run := inventory.JobRun{Finished: now, Result: "ok", NextRunAt: now.Add(time.Second)}
				if err := st.FinishJob(ctx, "tick", "a", run); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
