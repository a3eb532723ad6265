package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/internal/deploytest"
	"github.com/certkeeper/certkeeper/internal/deploy/localhost"
)

func TestApplyGroupOneTestOneReload(t *testing.T) {
	root, plans := deploytest.GroupSites(t, 3)
	reps, errs := engine.ApplyGroup(context.Background(), localhost.New(), plans, deploytest.Now)
	for i := range plans {
		if errs[i] != nil || reps[i] == nil || reps[i].Backup == "" {
			t.Fatalf("site %d: %+v, %v; want installed with a backup", i, reps[i], errs[i])
		}
		deploytest.AssertFile(t, filepath.Join(plans[i].Directory, "cert.pem"), fmt.Sprintf("new %d", i), 0o644)
	}
	if tests, reloads := deploytest.Lines(t, root+"/tests"), deploytest.Lines(t, root+"/reloads"); tests != 1 || reloads != 1 {
		t.Errorf("%d tests and %d reloads for three sites, want one of each", tests, reloads)
	}
}

// TestApplyGroupFindsTheCulprit: when the group's test fails, every site
// is restored and each is applied on its own: only the bad one fails.
func TestApplyGroupFindsTheCulprit(t *testing.T) {
	root, plans := deploytest.GroupSites(t, 3)
	plans[1].Files[0].Data = []byte("BAD")
	reps, errs := engine.ApplyGroup(context.Background(), localhost.New(), plans, deploytest.Now)
	for _, i := range []int{0, 2} {
		if errs[i] != nil {
			t.Errorf("good site %d failed: %v", i, errs[i])
		}
		deploytest.AssertFile(t, filepath.Join(plans[i].Directory, "cert.pem"), fmt.Sprintf("new %d", i), 0o644)
	}
	if errs[1] == nil || !strings.Contains(errs[1].Error(), "test command failed") || !reps[1].RolledBack {
		t.Errorf("bad site: %+v, %v; want the test failure, rolled back", reps[1], errs[1])
	}
	deploytest.AssertFile(t, filepath.Join(plans[1].Directory, "cert.pem"), "old", 0o644)
	if tests := deploytest.Lines(t, root+"/tests"); tests != 4 {
		t.Errorf("%d tests, want 4 (the group's, then one per site)", tests)
	}
}

// restoreFails is a host that writes one file of dir once: the install
// writes it, and the restore after the group's failure cannot put the old
// content back.
type restoreFails struct {
	engine.Host
	file    string
	written bool
}

func (h *restoreFails) WriteFile(ctx context.Context, name string, data []byte, mode fs.FileMode, owner string) error {
	if name == h.file {
		if h.written {
			return errors.New("disk full")
		}
		h.written = true
	}
	return h.Host.WriteFile(ctx, name, data, mode, owner)
}

// TestApplyGroupReportsAFailedRestore: when the group's test fails and a
// site cannot be restored, that site's error says so (with the test's
// failure), it is not applied again, and the other sites go on as before.
func TestApplyGroupReportsAFailedRestore(t *testing.T) {
	root, plans := deploytest.GroupSites(t, 3)
	plans[1].Files[0].Data = []byte("BAD")
	h := &restoreFails{Host: localhost.New(), file: filepath.Join(plans[0].Directory, "cert.pem")}
	reps, errs := engine.ApplyGroup(context.Background(), h, plans, deploytest.Now)
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "test command failed") ||
		!strings.Contains(errs[0].Error(), "roll back failed: restore cert.pem: disk full") {
		t.Fatalf("site 0: %v; want the group's test failure and the failed restore", errs[0])
	}
	if reps[0] == nil || reps[0].RolledBack {
		t.Errorf("site 0 report %+v: want it, not rolled back", reps[0])
	}
	if errs[1] == nil || !reps[1].RolledBack {
		t.Errorf("bad site: %+v, %v; want its test failure, rolled back", reps[1], errs[1])
	}
	if errs[2] != nil {
		t.Errorf("good site 2 failed: %v", errs[2])
	}
	deploytest.AssertFile(t, filepath.Join(plans[2].Directory, "cert.pem"), "new 2", 0o644)
	if tests := deploytest.Lines(t, root+"/tests"); tests != 3 {
		t.Errorf("%d tests, want 3 (the group's, then sites 1 and 2 alone)", tests)
	}
}
