package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/store"
)

// TestJobsLocal: without --server, "jobs" reads the jobs the running
// instances keep in the inventory, and "jobs run" leaves a request there
// for the leader to serve.
func TestJobsLocal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	run(t, dir, nil, "import", certFile(t, t.TempDir(), "jobs.example.test"))
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	jobs := st.(inventory.JobStore)
	if err := jobs.EnsureJob(ctx, "crl-refresh", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	r := run(t, dir, nil, "jobs", "list", "--json")
	want{json: func(t *testing.T, out []byte) {
		var o struct {
			Instance string `json:"instance"`
			Jobs     []struct {
				Kind string `json:"kind"`
			} `json:"jobs"`
		}
		if err := json.Unmarshal(out, &o); err != nil || len(o.Jobs) != 1 || o.Jobs[0].Kind != "crl-refresh" {
			t.Errorf("jobs list --json = %s (%v), want the one job of the inventory", out, err)
		}
	}}.verify(t, r)

	run(t, dir, nil, "jobs", "run", "crl-refresh")
	all, err := jobs.ListJobs(ctx)
	if err != nil || len(all) != 1 || all[0].RequestedAt.IsZero() {
		t.Fatalf("after jobs run: %+v, %v; want the job requested", all, err)
	}
	want{errHas: `unknown job kind`}.verify(t, run(t, dir, nil, "jobs", "run", "nope"))
}
