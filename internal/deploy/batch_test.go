package deploy

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/internal/deploytest"
	"github.com/certkeeper/certkeeper/internal/deploy/localhost"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestBatcherGroupsQueuedInstalls: installs to one server that queue up
// while it is busy share a test and a reload, and all of them finish.
func TestBatcherGroupsQueuedInstalls(t *testing.T) {
	const n = 8
	root, plans := deploytest.GroupSites(t, n)
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
			_, errs[i] = b.turns("nginx", localhost.New()).Install(context.Background(), plans[i], deploytest.Now)
		})
	}
	start.Done()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("site %d: %v", i, err)
		}
		deploytest.AssertFile(t, filepath.Join(plans[i].Directory, "cert.pem"), fmt.Sprintf("new %d", i), 0o644)
	}
	if reloads := deploytest.Lines(t, root+"/reloads"); reloads >= n || reloads == 0 {
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
	plan := engine.Plan{Directory: t.TempDir(), Files: []engine.PlanFile{{Path: "cert.pem", Data: []byte("x"), Mode: 0o644}}}
	_, err := b.turns("s", nil).Install(context.Background(), plan, deploytest.Now)
	if err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Errorf("install that panics: %v, want an internal error", err)
	}
	if len(b.servers) != 0 {
		t.Errorf("the batcher still holds %d servers", len(b.servers))
	}
}

func TestServerKey(t *testing.T) {
	site := func(dir, test, reload string) *inventory.Target {
		return &inventory.Target{Method: inventory.MethodDirectory, Directory: dir, TestCommand: test, ReloadCommand: reload}
	}
	a, b := site("/srv/a", "nginx -t", "nginx -s reload"), site("/srv/b", "nginx -t", "nginx -s reload")
	if serverKey(a) != serverKey(b) {
		t.Error("two sites of one nginx have different keys; their installs would run side by side")
	}
	if serverKey(site("/srv/a", "", "")) == serverKey(site("/srv/b", "", "")) {
		t.Error("two directories without commands share a key; they would wait for each other for nothing")
	}
	remote := site("/srv/a", "nginx -t", "nginx -s reload")
	remote.Method, remote.SSH = inventory.MethodSSH, &inventory.SSHAccess{Host: "web1", Port: 22, User: "root"}
	if serverKey(remote) == serverKey(a) {
		t.Error("a remote nginx shares the local one's key")
	}
}
