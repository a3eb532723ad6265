package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/scheduler"
)

// Jobs is the scheduler as the API uses it: its read model and run-now.
// An implementation answers scheduler.ErrNotRunning when the process runs
// no scheduler.
type Jobs interface {
	Overview(ctx context.Context) (scheduler.Overview, error)
	RequestRun(ctx context.Context, actor, kind string) error
	Runs(ctx context.Context, kind string, limit int) ([]inventory.JobRunRecord, error)
}

// Job history page sizes.
const (
	defaultJobRuns = 50
	maxJobRuns     = inventory.JobRunsKept
)

// jobRoutes: the scheduler's jobs, readable by users, run at once by
// admins.
func (a *API) jobRoutes() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/jobs", op: "listJobs", role: user,
			summary: "List the background jobs: schedule, last and next run, and the leader instance",
			out:     typeOf[client.JobList](), handle: a.withJobs(a.listJobs)},
		{method: "POST", pattern: "/api/v1/jobs/{kind}/run", op: "runJob", role: admin,
			summary: "Run a background job at once (on the leader, or on a per-instance job's instance)",
			status:  http.StatusAccepted, handle: a.withJobs(a.runJob)},
		{method: "GET", pattern: "/api/v1/jobs/{kind}/runs", op: "listJobRuns", role: user,
			summary: "List a background job's recent runs, newest first",
			query:   []param{{"limit", "integer", "runs, 1 to 200; default 50"}},
			out:     typeOf[client.JobRunList](), handle: a.withJobs(a.listJobRuns)},
	}
}

// withJobs answers 503 when no scheduler runs in this process.
func (a *API) withJobs(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if a.Jobs == nil {
			return &statusError{status: http.StatusServiceUnavailable, err: scheduler.ErrNotRunning}
		}
		err := h(w, r)
		if errors.Is(err, scheduler.ErrNotRunning) {
			return &statusError{status: http.StatusServiceUnavailable, err: err}
		}
		return err
	}
}

func (a *API) listJobs(w http.ResponseWriter, r *http.Request) error {
	o, err := a.Jobs.Overview(r.Context())
	if err != nil {
		return err
	}
	out := client.JobList{Instance: o.Instance, Leader: o.Leader.Owner, LeaderSince: timePtr(o.Leader.Since),
		LeaderAlive: o.LeaderAlive, Jobs: make([]client.Job, 0, len(o.Jobs))}
	for _, j := range o.Jobs {
		out.Jobs = append(out.Jobs, jobOut(j))
	}
	return ok(w, out)
}

func jobOut(j scheduler.Status) client.Job {
	return client.Job{Kind: j.Kind, Schedule: j.Schedule, Instance: j.Instance, NextRun: timePtr(j.NextRun),
		Requested: j.Requested, Running: j.Running, RunningOn: j.RunningOn,
		LastStarted: timePtr(j.LastStarted), LastFinished: timePtr(j.LastFinished), LastResult: j.LastResult,
		LastError: j.LastError, LastDurationMS: j.LastDuration.Milliseconds(), Attempts: j.Attempts}
}

func (a *API) runJob(w http.ResponseWriter, r *http.Request) error {
	if err := a.Jobs.RequestRun(r.Context(), actor(r), r.PathValue("kind")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (a *API) listJobRuns(w http.ResponseWriter, r *http.Request) error {
	n, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	if n > maxJobRuns {
		return badRequest("limit", "limit %d: want 1 to %d", n, maxJobRuns)
	}
	if n == 0 {
		n = defaultJobRuns
	}
	runs, err := a.Jobs.Runs(r.Context(), r.PathValue("kind"), n)
	if err != nil {
		return err
	}
	out := client.JobRunList{Runs: make([]client.JobRun, 0, len(runs))}
	for _, run := range runs {
		out.Runs = append(out.Runs, client.JobRun{Kind: run.Kind, Slot: run.Slot, Instance: run.Owner,
			Started: run.Started, Finished: timePtr(run.Finished), Result: run.Result, Error: run.Error,
			DurationMS: run.Duration.Milliseconds()})
	}
	return ok(w, out)
}

// timePtr is nil for the zero time.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
