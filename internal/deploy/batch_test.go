package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// groupSites makes n site directories under one root and a plan for each
// whose test fails when any site's cert.pem says BAD, and whose test and
// reload each append a line to a counter file.
func groupSites(t *testing.T, n int) (root string, plans []Plan) {
	t.Helper()
	root = t.TempDir()
	test := fmt.Sprintf("echo t >> %s/tests; ! grep -rqs BAD %s --include=cert.pem", root, root)
	reload := fmt.Sprintf("echo r >> %s/reloads", root)
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("site%d", i))
		engWrite(t, dir, "cert.pem", "old", 0o644)
		plans = append(plans, Plan{Directory: dir, TestCommand: test, ReloadCommand: reload,
			Files: []PlanFile{{Path: "cert.pem", Data: []byte(fmt.Sprintf("new %d", i)), Mode: 0o644}}})
	}
	return root, plans
}

// lines counts the lines of a counter file.
func lines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}

func TestApplyGroupOneTestOneReload(t *testing.T) {
	root, plans := groupSites(t, 3)
	reps, errs := ApplyGroup(context.Background(), NewLocal(), plans, engNow)
	for i := range plans {
		if errs[i] != nil || reps[i] == nil || reps[i].Backup == "" {
			t.Fatalf("site %d: %+v, %v; want installed with a backup", i, reps[i], errs[i])
		}
		engAssertFile(t, filepath.Join(plans[i].Directory, "cert.pem"), fmt.Sprintf("new %d", i), 0o644)
	}
	if tests, reloads := lines(t, root+"/tests"), lines(t, root+"/reloads"); tests != 1 || reloads != 1 {
		t.Errorf("%d tests and %d reloads for three sites, want one of each", tests, reloads)
	}
}

// TestApplyGroupFindsTheCulprit: when the group's test fails, every site
// is restored and each is applied on its own: only the bad one fails.
func TestApplyGroupFindsTheCulprit(t *testing.T) {
	root, plans := groupSites(t, 3)
	plans[1].Files[0].Data = []byte("BAD")
	reps, errs := ApplyGroup(context.Background(), NewLocal(), plans, engNow)
	for _, i := range []int{0, 2} {
		if errs[i] != nil {
			t.Errorf("good site %d failed: %v", i, errs[i])
		}
		engAssertFile(t, filepath.Join(plans[i].Directory, "cert.pem"), fmt.Sprintf("new %d", i), 0o644)
	}
	if errs[1] == nil || !strings.Contains(errs[1].Error(), "test command failed") || !reps[1].RolledBack {
		t.Errorf("bad site: %+v, %v; want the test failure, rolled back", reps[1], errs[1])
	}
	engAssertFile(t, filepath.Join(plans[1].Directory, "cert.pem"), "old", 0o644)
	if tests := lines(t, root+"/tests"); tests != 4 {
		t.Errorf("%d tests, want 4 (the group's, then one per site)", tests)
	}
}

// TestBatcherGroupsQueuedInstalls: installs to one server that queue up
// while it is busy share a test and a reload, and all of them finish.
func TestBatcherGroupsQueuedInstalls(t *testing.T) {
	const n = 8
	root, plans := groupSites(t, n)
	for i := range plans {
		plans[i].TestCommand = "sleep 0.2; " + plans[i].TestCommand
	}
	b := newBatcher()
	var start, wg sync.WaitGroup
	start.Add(1)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			start.Wait()
			_, errs[i] = b.turns("nginx", NewLocal()).Install(context.Background(), plans[i], engNow)
		})
	}
	start.Done()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("site %d: %v", i, err)
		}
		engAssertFile(t, filepath.Join(plans[i].Directory, "cert.pem"), fmt.Sprintf("new %d", i), 0o644)
	}
	if reloads := lines(t, root+"/reloads"); reloads >= n || reloads == 0 {
		t.Errorf("%d reloads for %d installs queued together, want them grouped", reloads, n)
	}
	if len(b.servers) != 0 {
		t.Errorf("the batcher still holds %d servers", len(b.servers))
	}
}

// TestBatcherSurvivesAPanic: a panic in a batch, in a job run alone or in
// an install, fails its items and passes the turn on; nobody waits
// forever and the server's queue is dropped.
func TestBatcherSurvivesAPanic(t *testing.T) {
	b := newBatcher()
	contained := func() (ok bool) {
		defer func() { ok = recover() == nil }()
		b.turns("s", nil).Alone(func() { panic("boom") })
		return true
	}()
	if !contained {
		t.Error("a panicking job's panic reached its caller")
	}
	// A nil host makes the install panic when it reads the current files.
	plan := Plan{Directory: t.TempDir(), Files: []PlanFile{{Path: "cert.pem", Data: []byte("x"), Mode: 0o644}}}
	_, err := b.turns("s", nil).Install(context.Background(), plan, engNow)
	if err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Errorf("install that panics: %v, want an internal error", err)
	}
	if len(b.servers) != 0 {
		t.Errorf("the batcher still holds %d servers", len(b.servers))
	}
}
