package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// jobEvery is the session-expiry interval the instances of
// TestSchedulerThreeInstances run with.
const jobEvery = 2 * time.Second

// TestSchedulerThreeInstances runs three "certkeeper serve" processes on
// one PostgreSQL inventory with a short session-expiry schedule: one
// leads, every slot of the shared job runs once (on the leader), every
// instance runs its own per-instance jobs; after the leader is killed
// with SIGKILL another instance leads within 30 s and runs the slot that
// was due.
func TestSchedulerThreeInstances(t *testing.T) {
	dsn := testenv.PostgresDSN(t)
	base := t.TempDir()
	env := []string{"CERTKEEPER_DATABASE=" + dsn, "CERTKEEPER_MASTER_KEY_FILE=" + filepath.Join(base, "master.key")}
	names := []string{"node1", "node2", "node3"}
	nodes := map[string]*ck{}
	served := map[string]*served{}
	for _, name := range names {
		nodes[name] = &ck{t: t, dataDir: filepath.Join(base, name), env: env}
		served[name] = serve(t, nodes[name], "--instance-name", name, "--agent-listen", "off",
			"--scheduler-poll", "200ms", "--job-every", fmt.Sprintf("session-expiry=%s", jobEvery))
	}
	st := openJobs(t, dsn)
	leader := waitLeader(t, st, "")
	testenv.WaitFor(t, 60*time.Second, "five session-expiry runs", func() bool { return len(finished(t, st)) >= 5 })
	checkRuns(t, finished(t, st), leader)
	for _, name := range names {
		testenv.WaitFor(t, 30*time.Second, name+"'s own allow-list job", func() bool {
			runs, err := st.ListJobRuns(context.Background(), "allow-list@"+name, 10)
			return err == nil && len(runs) > 0 && runs[len(runs)-1].Owner == name
		})
	}
	checkAPI(t, nodes, served, leader)

	victim := served[leader]
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.stopped
	killed := time.Now()
	due := dueSlot(t, st, leader)
	next := waitLeader(t, st, leader)
	t.Logf("leader %s killed; %s leads after %s; due slot %s", leader, next, time.Since(killed), due)
	if took := time.Since(killed); took > 30*time.Second {
		t.Fatalf("new leader after %s, want within 30s", took)
	}
	testenv.WaitFor(t, 30*time.Second, "the due slot "+due.String()+" run by the new leader", func() bool {
		for _, r := range finished(t, st) {
			if r.Slot.Equal(due) && r.Owner == next && r.Result == "ok" {
				return true
			}
		}
		return false
	})
	testenv.WaitFor(t, 30*time.Second, "two more runs", func() bool { return ranBy(finished(t, st), next) >= 2 })
	checkRuns(t, finished(t, st), "")
}

// openJobs opens the shared inventory as the test's observer.
func openJobs(t *testing.T, dsn string) inventory.JobStore {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st.(inventory.JobStore)
}

// waitLeader waits up to 30 s for a live leader other than not and
// returns its name.
func waitLeader(t *testing.T, st inventory.JobStore, not string) string {
	t.Helper()
	var name string
	testenv.WaitFor(t, 30*time.Second, "a leader other than "+not, func() bool {
		l, err := st.JobLeader(context.Background())
		if err != nil && !errors.Is(err, inventory.ErrNotFound) {
			t.Fatal(err)
		}
		name = l.Owner
		return name != "" && name != not && l.LeaseUntil.After(time.Now())
	})
	return name
}

// finished returns the finished session-expiry runs, newest first.
func finished(t *testing.T, st inventory.JobStore) []inventory.JobRunRecord {
	t.Helper()
	runs, err := st.ListJobRuns(context.Background(), "session-expiry", inventory.JobRunsKept)
	if err != nil {
		t.Fatal(err)
	}
	var out []inventory.JobRunRecord
	for _, r := range runs {
		if !r.Finished.IsZero() {
			out = append(out, r)
		}
	}
	return out
}

func ranBy(runs []inventory.JobRunRecord, owner string) int {
	n := 0
	for _, r := range runs {
		if r.Owner == owner {
			n++
		}
	}
	return n
}

// checkRuns: every run succeeded, on owner when set, and the slots follow
// each other by at least the interval, so no slot ran twice (job_runs
// itself keeps one row per slot). Runs at start (requests) are exempt
// from the spacing.
func checkRuns(t *testing.T, runs []inventory.JobRunRecord, owner string) {
	t.Helper()
	for i, r := range runs {
		if r.Result != "ok" || (owner != "" && r.Owner != owner) {
			t.Fatalf("run %+v: want ok on %q", r, owner)
		}
		if i+1 < len(runs) && r.Slot.Sub(runs[i+1].Slot) < time.Second {
			t.Fatalf("slots %s and %s less than a second apart: %+v", r.Slot, runs[i+1].Slot, runs)
		}
	}
}

// dueSlot is the slot of session-expiry that the dead leader left: the
// one it was running, or the next one.
func dueSlot(t *testing.T, st inventory.JobStore, dead string) time.Time {
	t.Helper()
	jobs, err := st.ListJobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Kind == "session-expiry" {
			if j.LeaseOwner == dead {
				return j.RunSlot
			}
			return j.NextRunAt
		}
	}
	t.Fatal("no session-expiry job")
	return time.Time{}
}

// checkAPI: a follower's API names the leader and lists the history; an
// admin may run a job now, a user may not.
func checkAPI(t *testing.T, nodes map[string]*ck, served map[string]*served, leader string) {
	t.Helper()
	follower := "node1"
	if leader == follower {
		follower = "node2"
	}
	c := nodes[follower]
	url := served[follower].URL
	adminToken, userToken := tokenFile(t, c, "alice", "admin"), tokenFile(t, c, "bob", "user")
	admin, user := apiClient(t, c, url, adminToken), apiClient(t, c, url, userToken)
	checkCLI(t, c, url, adminToken, userToken, leader)
	ctx := context.Background()
	list, err := user.ListJobs(ctx)
	if err != nil || list.Leader != leader || !list.LeaderAlive || list.Instance != follower {
		t.Fatalf("ListJobs = %+v, %v; want leader %s answered by %s", list, err, leader, follower)
	}
	runs, err := user.JobRuns(ctx, "session-expiry", 3)
	if err != nil || len(runs.Runs) != 3 {
		t.Fatalf("JobRuns = %+v, %v; want 3 runs", runs, err)
	}
	var pe *client.Error
	if err := user.RunJob(ctx, "session-expiry"); !errors.As(err, &pe) || pe.Problem.Status != http.StatusForbidden {
		t.Fatalf("RunJob as a user: %v, want 403", err)
	}
	if err := admin.RunJob(ctx, "nope"); !errors.As(err, &pe) || pe.Problem.Status != http.StatusNotFound {
		t.Fatalf("RunJob of an unknown kind: %v, want 404", err)
	}
	if err := admin.RunJob(ctx, "allow-list@"+leader); err != nil {
		t.Fatalf("RunJob of the leader's allow-list job: %v", err)
	}
}

// checkCLI: "jobs list", "jobs history" and "jobs run" against a
// follower; a user's run is refused in one line.
func checkCLI(t *testing.T, c *ck, url, adminToken, userToken, leader string) {
	t.Helper()
	as := func(token string, args ...string) []string {
		return append([]string{"--server", url, "--token-file", token}, args...)
	}
	var list client.JobList
	decodeJSON(t, "jobs list", c.ok(as(userToken, "jobs", "list", "--json")...), &list)
	if list.Leader != leader || len(list.Jobs) < 5 {
		t.Fatalf("jobs list --json: %+v, want leader %s and the jobs", list, leader)
	}
	if out := c.ok(as(userToken, "jobs", "list")...); !strings.Contains(out, "leader: "+leader) || !strings.Contains(out, "session-expiry") {
		t.Fatalf("jobs list:\n%s", out)
	}
	var runs client.JobRunList
	decodeJSON(t, "jobs history", c.ok(as(userToken, "jobs", "history", "session-expiry", "--json", "--limit", "2")...), &runs)
	if len(runs.Runs) != 2 || runs.Runs[0].Instance != leader {
		t.Fatalf("jobs history --json: %+v, want two runs by %s", runs, leader)
	}
	if line := c.fails(as(userToken, "jobs", "run", "session-expiry")...); !strings.Contains(line, "403") {
		t.Fatalf("jobs run as a user: %q, want a 403", line)
	}
	if out := c.ok(as(adminToken, "jobs", "run", "crl-refresh")...); !strings.Contains(out, "crl-refresh requested") {
		t.Fatalf("jobs run: %q", out)
	}
}
