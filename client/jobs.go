package client

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// JobList is the scheduler's state: every background job, the leader
// instance and the instance that answered.
type JobList struct {
	// Instance is the name of the instance that answered.
	Instance string `json:"instance"`
	// Leader is the instance that holds the leader lease and runs the
	// shared jobs ("" when none ever did); LeaderAlive says whether its
	// lease is current.
	Leader      string     `json:"leader"`
	LeaderSince *time.Time `json:"leader_since,omitempty"`
	LeaderAlive bool       `json:"leader_alive"`
	Jobs        []Job      `json:"jobs"`
}

// Job is one background job: a kind of work, or a per-instance kind on
// one instance ("web-certificate@NAME").
type Job struct {
	Kind string `json:"kind"`
	// Schedule describes when it runs ("every 10m0s, and at start").
	Schedule string `json:"schedule,omitempty"`
	// Instance is the instance a per-instance job runs on; "" for a
	// shared job, which the leader runs.
	Instance string     `json:"instance,omitempty"`
	NextRun  *time.Time `json:"next_run,omitempty"`
	// Requested is set while a run-now request waits.
	Requested bool `json:"requested"`
	Running   bool `json:"running"`
	// RunningOn is the instance running it.
	RunningOn    string     `json:"running_on,omitempty"`
	LastStarted  *time.Time `json:"last_started,omitempty"`
	LastFinished *time.Time `json:"last_finished,omitempty"`
	// LastResult is "ok", "failed" or "" before the first run.
	LastResult     string `json:"last_result,omitempty"`
	LastError      string `json:"last_error,omitempty"`
	LastDurationMS int64  `json:"last_duration_ms"`
	// Attempts counts failed runs since the last success.
	Attempts int `json:"attempts"`
}

// JobRun is one run in a job's history; one per slot.
type JobRun struct {
	Kind string `json:"kind"`
	// Slot is the due time the run served (or the run-now request's).
	Slot     time.Time `json:"slot"`
	Instance string    `json:"instance"`
	Started  time.Time `json:"started"`
	// Finished is nil while the run is under way, or when its instance
	// died and none took it over yet.
	Finished   *time.Time `json:"finished,omitempty"`
	Result     string     `json:"result,omitempty"`
	Error      string     `json:"error,omitempty"`
	DurationMS int64      `json:"duration_ms"`
}

// JobRunList is a job's recent runs, newest first.
type JobRunList struct {
	Runs []JobRun `json:"runs"`
}

// ListJobs returns the scheduler's state.
func (c *Client) ListJobs(ctx context.Context) (*JobList, error) {
	var out JobList
	return &out, c.do(ctx, call{method: "GET", path: path("jobs"), out: &out})
}

// RunJob asks for a run of kind at once (admins only); the leader, or the
// job's instance, starts it within its poll interval.
func (c *Client) RunJob(ctx context.Context, kind string) error {
	return c.do(ctx, call{method: "POST", path: path("jobs", kind, "run")})
}

// JobRuns returns up to limit (0: the server's default of 50) recent
// runs of kind, newest first.
func (c *Client) JobRuns(ctx context.Context, kind string, limit int) (*JobRunList, error) {
	v := url.Values{}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out JobRunList
	return &out, c.do(ctx, call{method: "GET", path: path("jobs", kind, "runs"), query: v, out: &out})
}
