package localhost

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
)

func TestLocalRunTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	start := time.Now()
	// The grandchild sleep is in the command's process group.
	out, err := New().Run(context.Background(), "sh -c 'echo $$ > "+pidFile+"; exec sleep 30' & echo started; wait", 300*time.Millisecond)
	if err == nil || err.Error() != "timed out after 0.3s" {
		t.Fatalf("Run: %v, want timed out after 0.3s", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %s", d)
	}
	if !strings.Contains(out, "started") {
		t.Errorf("output %q, want what was printed before the timeout", out)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	engWaitGone(t, pid)
}

// engWaitGone waits for pid to exit (a zombie counts as gone).
func engWaitGone(t *testing.T, pid int) {
	t.Helper()
	for range 100 {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("process %d still runs after the timeout", pid)
}

func TestLocalRunOutput(t *testing.T) {
	ctx := context.Background()
	out, err := New().Run(ctx, "head -c 40000 /dev/zero | tr '\\0' a", time.Minute)
	if err != nil || len(out) > engine.MaxOutput+len(engine.CutMarker)+2 || !strings.HasSuffix(out, engine.CutMarker+"\n") {
		t.Errorf("Run: %d bytes ending %q, %v; want at most engine.MaxOutput and the marker", len(out), out[max(len(out)-60, 0):], err)
	}
	if _, err := New().Run(ctx, "exit 7", time.Minute); err == nil || err.Error() != "exit code 7" {
		t.Errorf("Run exit 7: %v, want exit code 7", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := New().Run(cctx, "true", time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: %v", err)
	}
}
