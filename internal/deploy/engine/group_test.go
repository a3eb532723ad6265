package engine_test

import (
	"context"
	"fmt"
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
