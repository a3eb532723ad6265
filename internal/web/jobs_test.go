package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/scheduler"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestMonitorControl: the page lists the jobs, the leader and the recent
// runs; an admin's run-now runs the job, a user has no button and is
// refused.
func TestMonitorControl(t *testing.T) {
	s := newSite(t)
	runs := make(chan struct{}, 10)
	tick := func(context.Context) error { runs <- struct{}{}; return nil }
	sch, err := scheduler.New(s.stack.Store.(inventory.JobStore),
		[]scheduler.Kind{{Name: "tick", Run: tick, Every: time.Hour, AtStart: true}},
		scheduler.Config{Owner: "web-test", Poll: 10 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sch.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	s.stack.UseScheduler(sch)
	<-runs
	testenv.WaitFor(t, 10*time.Second, "the run's record", func() bool {
		sts, err := sch.Status(context.Background())
		return err == nil && sts[0].LastResult == scheduler.ResultOK
	})

	bob := s.signIn("bob")
	res, body := bob.get("/jobs")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /jobs as a user: %d\n%s", res.StatusCode, body)
	}
	mustContain(t, body, "Monitor Control", "web-test", "leading", "tick", "every 1h0m0s, and at start", "Recent runs of")
	if res, _ := bob.post("/jobs/tick/run", url.Values{"csrf": {bob.csrf()}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("run-now as a user: %d, want 403", res.StatusCode)
	}

	ada := s.signIn("ada")
	res, body = ada.post("/jobs/tick/run", url.Values{"csrf": {ada.csrf()}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("run-now as an admin: %d\n%s", res.StatusCode, body)
	}
	mustContain(t, body, "Job tick requested")
	select {
	case <-runs:
	case <-time.After(10 * time.Second):
		t.Fatal("the requested run did not happen within 10s")
	}
	events, _, err := s.stack.Store.ListAudit(context.Background(), time.Time{}, inventory.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range events {
		if e.Action == "job.run" {
			found = e.Object == "job:tick" && e.Actor == "user:ada"
		}
	}
	if !found {
		t.Errorf("no job.run event on job:tick by user:ada in %+v", events)
	}
}
