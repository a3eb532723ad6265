package engine_test

import (
	"context"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/internal/deploytest"
	"github.com/certkeeper/certkeeper/internal/deploy/localhost"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func TestApplyLocalBackupAndRollback(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := deploytest.Plan(t, dir)
	p.TestCommand = "test -f fullchain.pem && echo config ok" // runs in dir
	p.ReloadCommand = "echo reloaded"
	rep, err := engine.Apply(ctx, localhost.New(), p, deploytest.Now)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	deploytest.AssertFile(t, filepath.Join(dir, "fullchain.pem"), "new cert", 0o644)
	deploytest.AssertFile(t, filepath.Join(dir, "privkey.pem"), "new key", 0o640)
	deploytest.AssertFile(t, filepath.Join(dir, "sub/extra.pem"), "extra", 0o600)
	wantBackup := filepath.Join(dir, ".certkeeper-backup", "20260314T092653Z")
	if rep.Backup != wantBackup || rep.RolledBack {
		t.Errorf("report Backup %q RolledBack %v, want %q false", rep.Backup, rep.RolledBack, wantBackup)
	}
	if !slices.Equal(rep.Written, []string{"fullchain.pem", "privkey.pem", "sub/extra.pem"}) ||
		!slices.Equal(rep.Created, []string{"sub/extra.pem"}) {
		t.Errorf("Written %q Created %q", rep.Written, rep.Created)
	}
	if strings.TrimSpace(rep.TestOutput) != "config ok" || strings.TrimSpace(rep.ReloadOutput) != "reloaded" {
		t.Errorf("outputs %q, %q; want config ok, reloaded", rep.TestOutput, rep.ReloadOutput)
	}
	deploytest.AssertBackup(t, rep.Backup)

	out, err := engine.Rollback(ctx, localhost.New(), p, rep.Backup)
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if !strings.Contains(out, "config ok") || !strings.Contains(out, "reloaded") {
		t.Errorf("Rollback output %q, want both commands' output", out)
	}
	deploytest.AssertFile(t, filepath.Join(dir, "fullchain.pem"), "old cert", 0o644)
	deploytest.AssertFile(t, filepath.Join(dir, "privkey.pem"), "old key", 0o600)
	deploytest.AssertMissing(t, filepath.Join(dir, "sub/extra.pem"))
}

// deploytest.AssertBackup checks the backup folder of an deploytest.Plan install.
func TestApplyLocalTestCommandFails(t *testing.T) {
	dir := t.TempDir()
	p := deploytest.Plan(t, dir)
	p.TestCommand = "echo checking; echo 'emerg: bad key' >&2; exit 3"
	p.ReloadCommand = "touch RELOADED"
	rep, err := engine.Apply(context.Background(), localhost.New(), p, deploytest.Now)
	if err == nil || !strings.Contains(err.Error(), "test command failed (exit code 3): emerg: bad key") {
		t.Fatalf("Apply error %v, want the test command's failure and last line", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q has several lines", err)
	}
	if rep == nil || !rep.RolledBack || !strings.Contains(rep.TestOutput, "checking") {
		t.Fatalf("report %+v, want RolledBack and the test output", rep)
	}
	deploytest.AssertMissing(t, filepath.Join(dir, "RELOADED"))
	deploytest.AssertFile(t, filepath.Join(dir, "fullchain.pem"), "old cert", 0o644)
	deploytest.AssertFile(t, filepath.Join(dir, "privkey.pem"), "old key", 0o600)
	deploytest.AssertMissing(t, filepath.Join(dir, "sub/extra.pem"))
}

func TestApplyLocalReloadFails(t *testing.T) {
	dir := t.TempDir()
	p := deploytest.Plan(t, dir)
	// The first reload fails, the one after the roll back succeeds.
	p.ReloadCommand = "if [ -f once ]; then echo again > twice; else touch once; echo dead; exit 1; fi"
	rep, err := engine.Apply(context.Background(), localhost.New(), p, deploytest.Now)
	if err == nil || !strings.Contains(err.Error(), "reload command failed (exit code 1): dead") {
		t.Fatalf("Apply error %v, want the reload failure", err)
	}
	if !rep.RolledBack {
		t.Error("RolledBack false, want true")
	}
	deploytest.AssertFile(t, filepath.Join(dir, "twice"), "again\n", 0o644)
	deploytest.AssertFile(t, filepath.Join(dir, "privkey.pem"), "old key", 0o600)
	deploytest.AssertMissing(t, filepath.Join(dir, "sub/extra.pem"))
}

func TestApplyLocalFirstInstall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	p := engine.Plan{Directory: dir, Files: []engine.PlanFile{{Path: "a.pem", Data: []byte("a")}}, TestCommand: "false"}
	rep, err := engine.Apply(context.Background(), localhost.New(), p, deploytest.Now)
	if err == nil || rep == nil || !rep.RolledBack || rep.Backup != "" {
		t.Fatalf("Apply: %+v, %v; want a failed test, rolled back, no backup", rep, err)
	}
	deploytest.AssertMissing(t, filepath.Join(dir, "a.pem"))
	deploytest.AssertMissing(t, filepath.Join(dir, ".certkeeper-backup"))
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("directory: %v, %v; want it created 0755", fi, err)
	}
}

func TestApplyLocalOwner(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	for _, owner := range []string{u.Uid, u.Uid + ":" + u.Gid, u.Username} {
		t.Run(owner, func(t *testing.T) {
			dir := t.TempDir()
			p := engine.Plan{Directory: dir, Owner: owner, Files: []engine.PlanFile{{Path: "k.pem", Data: []byte("k"), Mode: 0o600}}}
			if _, err := engine.Apply(context.Background(), localhost.New(), p, deploytest.Now); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			fi, err := os.Stat(filepath.Join(dir, "k.pem"))
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*syscall.Stat_t)
			if strconv.Itoa(int(st.Uid)) != u.Uid || strconv.Itoa(int(st.Gid)) != u.Gid {
				t.Errorf("owner %d:%d, want %s:%s", st.Uid, st.Gid, u.Uid, u.Gid)
			}
		})
	}
	dir := t.TempDir()
	p := engine.Plan{Directory: dir, Owner: "no-such-user-certkeeper", Files: []engine.PlanFile{{Path: "k.pem", Data: []byte("k")}}}
	if _, err := engine.Apply(context.Background(), localhost.New(), p, deploytest.Now); err == nil || !strings.Contains(err.Error(), "no-such-user-certkeeper") {
		t.Errorf("Apply with an unknown owner: %v", err)
	}
	deploytest.AssertMissing(t, filepath.Join(dir, "k.pem"))
}

func TestApplyLocalOwnerChanged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to another user needs root")
	}
	dir := t.TempDir()
	p := engine.Plan{Directory: dir, Owner: "65534:65534", Files: []engine.PlanFile{{Path: "k.pem", Data: []byte("k"), Mode: 0o640}}}
	if _, err := engine.Apply(context.Background(), localhost.New(), p, deploytest.Now); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "k.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 || fi.Mode().Perm() != 0o640 {
		t.Errorf("got %d:%d %#o, want 65534:65534 0640", st.Uid, st.Gid, fi.Mode().Perm())
	}
}

func TestApplyRefusesBadPlans(t *testing.T) {
	dir := t.TempDir()
	file := func(p string) []engine.PlanFile { return []engine.PlanFile{{Path: p, Data: []byte("x")}} }
	tests := []struct {
		name string
		plan engine.Plan
		want string
	}{
		{"relative directory", engine.Plan{Directory: "etc/nginx", Files: file("a")}, "absolute"},
		{"no files", engine.Plan{Directory: dir}, "no files"},
		{"dot dot", engine.Plan{Directory: dir, Files: file("../a")}, `".."`},
		{"absolute file", engine.Plan{Directory: dir, Files: file("/etc/passwd")}, "absolute"},
		{"unclean", engine.Plan{Directory: dir, Files: file("a//b")}, "not clean"},
		{"backup folder", engine.Plan{Directory: dir, Files: file(".certkeeper-backup/x")}, "backup"},
		{"twice", engine.Plan{Directory: dir, Files: append(file("a"), file("a")...)}, "twice"},
		{"mode", engine.Plan{Directory: dir, Files: []engine.PlanFile{{Path: "a", Mode: fs.ModeSetuid | 0o755}}}, "permission mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := engine.Apply(context.Background(), localhost.New(), tt.plan, deploytest.Now)
			if err == nil || rep != nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Apply: %v, %v; want an error with %q", rep, err, tt.want)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused plans wrote %v", entries)
	}
}

func TestApplyKeepsTenBackups(t *testing.T) {
	dir := t.TempDir()
	p := engine.Plan{Directory: dir, Files: []engine.PlanFile{{Path: "a.pem", Data: []byte("a")}}}
	deploytest.WriteFile(t, dir, "a.pem", "0", 0o644)
	for i := range 12 {
		if _, err := engine.Apply(context.Background(), localhost.New(), p, deploytest.Now.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// Three installs in the same second get -2 and -3.
	var last *engine.InstallReport
	for range 3 {
		rep, err := engine.Apply(context.Background(), localhost.New(), p, deploytest.Now.Add(20*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		last = rep
	}
	if want := "20260315T052653Z-3"; filepath.Base(last.Backup) != want {
		t.Errorf("third backup in one second %q, want %s", filepath.Base(last.Backup), want)
	}
	entries, err := os.ReadDir(filepath.Join(dir, ".certkeeper-backup"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// 15 installs: the seven newest hourly ones and the three of one second.
	want := []string{"20260314T142653Z", "20260314T152653Z", "20260314T162653Z", "20260314T172653Z",
		"20260314T182653Z", "20260314T192653Z", "20260314T202653Z", "20260315T052653Z",
		"20260315T052653Z-2", "20260315T052653Z-3"}
	if !slices.Equal(names, want) {
		t.Errorf("backups %q, want %q", names, want)
	}
}

func TestRollbackRefusesOtherFolders(t *testing.T) {
	dir := t.TempDir()
	p := engine.Plan{Directory: dir, Files: []engine.PlanFile{{Path: "a.pem", Data: []byte("a")}}}
	for _, b := range []string{"", "..", "../../etc", "/etc", filepath.Join(dir, "x"), "20260314T092653Z/../../x"} {
		if _, err := engine.Rollback(context.Background(), localhost.New(), p, b); err == nil || !strings.Contains(err.Error(), "not a backup folder") {
			t.Errorf("Rollback(%q): %v, want refused", b, err)
		}
	}
	// A hostile manifest is refused before anything is touched.
	deploytest.WriteFile(t, dir, ".certkeeper-backup/20260314T092653Z/manifest.json",
		`{"version":1,"time":"2026-03-14T09:26:53Z","written":["../outside"]}`, 0o600)
	if _, err := engine.Rollback(context.Background(), localhost.New(), p, "20260314T092653Z"); err == nil || !strings.Contains(err.Error(), `".."`) {
		t.Errorf("Rollback with a hostile manifest: %v", err)
	}
}

// engCounterCheck matches from its n-th call on.
func engCounterCheck(n int, calls *int) engine.CheckFunc {
	return func(_ context.Context, spec inventory.CheckSpec, want engine.Want) *inventory.CheckResult {
		*calls++
		ok := *calls >= n
		return &inventory.CheckResult{Address: spec.Host, Match: ok, Passed: ok, ExpectedSHA256: want.ExpectedSHA256}
	}
}

func TestRunLocalCheckSettles(t *testing.T) {
	dir := t.TempDir()
	j := engine.Job{Plan: deploytest.Plan(t, dir), Check: inventory.CheckSpec{Host: "127.0.0.1"}, ExpectedSHA256: strings.Repeat("ab", 32)}
	j.Settle = engine.Settle{Timeout: 2 * time.Second, Interval: 10 * time.Millisecond}
	var calls int
	out := engine.Run(context.Background(), localhost.New(), j, engCounterCheck(3, &calls), deploytest.Now)
	if out.Error != "" || !out.Installed || out.RolledBack || calls != 4 || !out.Check.Passed {
		t.Errorf("Run: %+v after %d checks, want installed and passed on the third, confirmed by the fourth", out, calls)
	}
	if out.Check.ExpectedSHA256 != j.ExpectedSHA256 {
		t.Errorf("the check got want %q, want it from engine.Job.Want", out.Check.ExpectedSHA256)
	}
}

func TestRunLocalCheckFailsRollsBack(t *testing.T) {
	dir := t.TempDir()
	j := engine.Job{Plan: deploytest.Plan(t, dir), Check: inventory.CheckSpec{Host: "127.0.0.1"}, RollbackOnFailure: true}
	j.Settle = engine.Settle{Timeout: 100 * time.Millisecond, Interval: 10 * time.Millisecond}
	j.Plan.ReloadCommand = "echo reload"
	var calls int
	out := engine.Run(context.Background(), localhost.New(), j, engCounterCheck(1000, &calls), deploytest.Now)
	if !out.Installed || !out.RolledBack || !strings.Contains(out.Error, "check failed") || calls < 2 {
		t.Fatalf("Run: %+v after %d checks, want installed, check failed, rolled back", out, calls)
	}
	deploytest.AssertFile(t, filepath.Join(dir, "privkey.pem"), "old key", 0o600)
	deploytest.AssertMissing(t, filepath.Join(dir, "sub/extra.pem"))
	if strings.Count(out.Install.ReloadOutput, "reload") < 2 {
		t.Errorf("ReloadOutput %q, want the reload after the roll back too", out.Install.ReloadOutput)
	}
}

func TestRunFirstInstallCheckFailsRemovesCreated(t *testing.T) {
	dir := t.TempDir()
	p := engine.Plan{Directory: dir, Files: []engine.PlanFile{{Path: "cert.pem", Data: []byte("new"), Mode: 0o644},
		{Path: "sub/key.pem", Data: []byte("key"), Mode: 0o600, Secret: true}}}
	j := engine.Job{Plan: p, Check: inventory.CheckSpec{Host: "127.0.0.1"}, RollbackOnFailure: true}
	j.Settle = engine.Settle{Timeout: 50 * time.Millisecond, Interval: 10 * time.Millisecond}
	out := engine.Run(context.Background(), localhost.New(), j, engCounterCheck(1000, new(int)), deploytest.Now)
	if !out.Installed || !out.RolledBack || !strings.Contains(out.Error, "2 files this install created were removed") {
		t.Fatalf("Run: %+v, want the created files removed", out)
	}
	deploytest.AssertMissing(t, filepath.Join(dir, "cert.pem"))
	deploytest.AssertMissing(t, filepath.Join(dir, "sub/key.pem"))
}

// recordingTurns records what is done in turns and whether a turn is
// being taken.
type recordingTurns struct {
	h               engine.Host
	inTurn          bool
	installs, alone int
}

func (r *recordingTurns) Install(ctx context.Context, p engine.Plan, now time.Time) (*engine.InstallReport, error) {
	r.inTurn, r.installs = true, r.installs+1
	defer func() { r.inTurn = false }()
	return engine.Apply(ctx, r.h, p, now)
}

func (r *recordingTurns) Alone(fn func()) {
	r.inTurn, r.alone = true, r.alone+1
	defer func() { r.inTurn = false }()
	fn()
}

// TestRunTurnsTakesTurnsForFilesNotCheck: the install and the roll back
// go through the turns, the check never does.
func TestRunTurnsTakesTurnsForFilesNotCheck(t *testing.T) {
	dir := t.TempDir()
	j := engine.Job{Plan: deploytest.Plan(t, dir), Check: inventory.CheckSpec{Host: "127.0.0.1"}, RollbackOnFailure: true}
	j.Settle = engine.Settle{Timeout: 50 * time.Millisecond, Interval: 10 * time.Millisecond}
	turns := &recordingTurns{h: localhost.New()}
	inTurnDuringCheck := false
	check := func(_ context.Context, spec inventory.CheckSpec, want engine.Want) *inventory.CheckResult {
		inTurnDuringCheck = inTurnDuringCheck || turns.inTurn
		return &inventory.CheckResult{Address: spec.Host}
	}
	out := engine.RunTurns(context.Background(), localhost.New(), j, check, deploytest.Now, turns)
	if !out.Installed || !out.RolledBack {
		t.Fatalf("RunTurns: %+v, want installed then rolled back", out)
	}
	if turns.installs != 1 || turns.alone != 1 || inTurnDuringCheck {
		t.Errorf("installs %d, alone %d, in a turn during the check %v; want 1, 1 (the roll back), false",
			turns.installs, turns.alone, inTurnDuringCheck)
	}
}

func TestRunLocalFailures(t *testing.T) {
	dir := t.TempDir()
	bad := engine.Run(context.Background(), localhost.New(), engine.Job{Plan: engine.Plan{Directory: "relative"}}, nil, deploytest.Now)
	if bad.Installed || bad.Error == "" {
		t.Errorf("Run with a bad plan: %+v", bad)
	}
	j := engine.Job{Plan: deploytest.Plan(t, dir), Check: inventory.CheckSpec{Host: "x"}, ExpectedSHA256: "zz"}
	out := engine.Run(context.Background(), localhost.New(), j, engCounterCheck(1, new(int)), deploytest.Now)
	if !out.Installed || !strings.Contains(out.Error, "64 hex digits") {
		t.Errorf("Run with a bad expected hash: %+v", out)
	}
	panicky := func(context.Context, inventory.CheckSpec, engine.Want) *inventory.CheckResult { panic("boom") }
	out = engine.Run(context.Background(), localhost.New(), engine.Job{Plan: deploytest.Plan(t, dir), Check: inventory.CheckSpec{Host: "x"}}, panicky, deploytest.Now)
	if !strings.Contains(out.Error, "boom") {
		t.Errorf("Run with a panicking check: %+v", out)
	}
}
