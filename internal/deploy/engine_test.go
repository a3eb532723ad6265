package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var engNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// engWrite writes a file of the test's directory.
func engWrite(t *testing.T, dir, rel, data string, mode fs.FileMode) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// engAssertFile checks a file's content and mode.
func engAssertFile(t *testing.T, p, data string, mode fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != data || fi.Mode().Perm() != mode {
		t.Errorf("%s: got %q mode %#o, want %q mode %#o", p, got, fi.Mode().Perm(), data, mode)
	}
}

func engAssertMissing(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: got err %v, want it missing", p, err)
	}
}

// engPlan replaces fullchain.pem and privkey.pem of dir (which hold
// "old cert" 0644 and "old key" 0600) and creates sub/extra.pem.
func engPlan(t *testing.T, dir string) Plan {
	t.Helper()
	engWrite(t, dir, "fullchain.pem", "old cert", 0o644)
	engWrite(t, dir, "privkey.pem", "old key", 0o600)
	return Plan{Directory: dir, Label: "web1", Files: []PlanFile{
		{Path: "fullchain.pem", Data: []byte("new cert"), Mode: 0o644},
		{Path: "privkey.pem", Data: []byte("new key"), Mode: 0o640, Secret: true},
		{Path: "sub/extra.pem", Data: []byte("extra"), Mode: 0o600},
	}}
}

func TestApplyLocalBackupAndRollback(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := engPlan(t, dir)
	p.TestCommand = "test -f fullchain.pem && echo config ok" // runs in dir
	p.ReloadCommand = "echo reloaded"
	rep, err := Apply(ctx, NewLocal(), p, engNow)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	engAssertFile(t, filepath.Join(dir, "fullchain.pem"), "new cert", 0o644)
	engAssertFile(t, filepath.Join(dir, "privkey.pem"), "new key", 0o640)
	engAssertFile(t, filepath.Join(dir, "sub/extra.pem"), "extra", 0o600)
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
	engAssertBackup(t, rep.Backup)

	out, err := Rollback(ctx, NewLocal(), p, rep.Backup)
	if err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if !strings.Contains(out, "config ok") || !strings.Contains(out, "reloaded") {
		t.Errorf("Rollback output %q, want both commands' output", out)
	}
	engAssertFile(t, filepath.Join(dir, "fullchain.pem"), "old cert", 0o644)
	engAssertFile(t, filepath.Join(dir, "privkey.pem"), "old key", 0o600)
	engAssertMissing(t, filepath.Join(dir, "sub/extra.pem"))
}

// engAssertBackup checks the backup folder of an engPlan install.
func engAssertBackup(t *testing.T, backup string) {
	t.Helper()
	engAssertFile(t, filepath.Join(backup, "fullchain.pem"), "old cert", 0o644)
	engAssertFile(t, filepath.Join(backup, "privkey.pem"), "old key", 0o600)
	engAssertMissing(t, filepath.Join(backup, "sub/extra.pem"))
	data, err := os.ReadFile(filepath.Join(backup, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if !m.Time.Equal(engNow) || m.Label != "web1" || len(m.Written) != 3 || !slices.Equal(m.Created, []string{"sub/extra.pem"}) {
		t.Errorf("manifest %s", data)
	}
}

func TestApplyLocalTestCommandFails(t *testing.T) {
	dir := t.TempDir()
	p := engPlan(t, dir)
	p.TestCommand = "echo checking; echo 'emerg: bad key' >&2; exit 3"
	p.ReloadCommand = "touch RELOADED"
	rep, err := Apply(context.Background(), NewLocal(), p, engNow)
	if err == nil || !strings.Contains(err.Error(), "test command failed (exit code 3): emerg: bad key") {
		t.Fatalf("Apply error %v, want the test command's failure and last line", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q has several lines", err)
	}
	if rep == nil || !rep.RolledBack || !strings.Contains(rep.TestOutput, "checking") {
		t.Fatalf("report %+v, want RolledBack and the test output", rep)
	}
	engAssertMissing(t, filepath.Join(dir, "RELOADED"))
	engAssertFile(t, filepath.Join(dir, "fullchain.pem"), "old cert", 0o644)
	engAssertFile(t, filepath.Join(dir, "privkey.pem"), "old key", 0o600)
	engAssertMissing(t, filepath.Join(dir, "sub/extra.pem"))
}

func TestApplyLocalReloadFails(t *testing.T) {
	dir := t.TempDir()
	p := engPlan(t, dir)
	// The first reload fails, the one after the roll back succeeds.
	p.ReloadCommand = "if [ -f once ]; then echo again > twice; else touch once; echo dead; exit 1; fi"
	rep, err := Apply(context.Background(), NewLocal(), p, engNow)
	if err == nil || !strings.Contains(err.Error(), "reload command failed (exit code 1): dead") {
		t.Fatalf("Apply error %v, want the reload failure", err)
	}
	if !rep.RolledBack {
		t.Error("RolledBack false, want true")
	}
	engAssertFile(t, filepath.Join(dir, "twice"), "again\n", 0o644)
	engAssertFile(t, filepath.Join(dir, "privkey.pem"), "old key", 0o600)
	engAssertMissing(t, filepath.Join(dir, "sub/extra.pem"))
}

func TestApplyLocalFirstInstall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	p := Plan{Directory: dir, Files: []PlanFile{{Path: "a.pem", Data: []byte("a")}}, TestCommand: "false"}
	rep, err := Apply(context.Background(), NewLocal(), p, engNow)
	if err == nil || rep == nil || !rep.RolledBack || rep.Backup != "" {
		t.Fatalf("Apply: %+v, %v; want a failed test, rolled back, no backup", rep, err)
	}
	engAssertMissing(t, filepath.Join(dir, "a.pem"))
	engAssertMissing(t, filepath.Join(dir, ".certkeeper-backup"))
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("directory: %v, %v; want it created 0755", fi, err)
	}
}

func TestLocalRunTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	start := time.Now()
	// The grandchild sleep is in the command's process group.
	out, err := NewLocal().Run(context.Background(), "sh -c 'echo $$ > "+pidFile+"; exec sleep 30' & echo started; wait", 300*time.Millisecond)
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
	out, err := NewLocal().Run(ctx, "head -c 40000 /dev/zero | tr '\\0' a", time.Minute)
	if err != nil || len(out) > MaxOutput+len(cutMarker)+2 || !strings.HasSuffix(out, cutMarker+"\n") {
		t.Errorf("Run: %d bytes ending %q, %v; want at most MaxOutput and the marker", len(out), out[max(len(out)-60, 0):], err)
	}
	if _, err := NewLocal().Run(ctx, "exit 7", time.Minute); err == nil || err.Error() != "exit code 7" {
		t.Errorf("Run exit 7: %v, want exit code 7", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := NewLocal().Run(cctx, "true", time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: %v", err)
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
			p := Plan{Directory: dir, Owner: owner, Files: []PlanFile{{Path: "k.pem", Data: []byte("k"), Mode: 0o600}}}
			if _, err := Apply(context.Background(), NewLocal(), p, engNow); err != nil {
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
	p := Plan{Directory: dir, Owner: "no-such-user-certkeeper", Files: []PlanFile{{Path: "k.pem", Data: []byte("k")}}}
	if _, err := Apply(context.Background(), NewLocal(), p, engNow); err == nil || !strings.Contains(err.Error(), "no-such-user-certkeeper") {
		t.Errorf("Apply with an unknown owner: %v", err)
	}
	engAssertMissing(t, filepath.Join(dir, "k.pem"))
}

func TestApplyLocalOwnerChanged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to another user needs root")
	}
	dir := t.TempDir()
	p := Plan{Directory: dir, Owner: "65534:65534", Files: []PlanFile{{Path: "k.pem", Data: []byte("k"), Mode: 0o640}}}
	if _, err := Apply(context.Background(), NewLocal(), p, engNow); err != nil {
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
	file := func(p string) []PlanFile { return []PlanFile{{Path: p, Data: []byte("x")}} }
	tests := []struct {
		name string
		plan Plan
		want string
	}{
		{"relative directory", Plan{Directory: "etc/nginx", Files: file("a")}, "absolute"},
		{"no files", Plan{Directory: dir}, "no files"},
		{"dot dot", Plan{Directory: dir, Files: file("../a")}, `".."`},
		{"absolute file", Plan{Directory: dir, Files: file("/etc/passwd")}, "absolute"},
		{"unclean", Plan{Directory: dir, Files: file("a//b")}, "not clean"},
		{"backup folder", Plan{Directory: dir, Files: file(".certkeeper-backup/x")}, "backup"},
		{"twice", Plan{Directory: dir, Files: append(file("a"), file("a")...)}, "twice"},
		{"mode", Plan{Directory: dir, Files: []PlanFile{{Path: "a", Mode: fs.ModeSetuid | 0o755}}}, "permission mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Apply(context.Background(), NewLocal(), tt.plan, engNow)
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
	p := Plan{Directory: dir, Files: []PlanFile{{Path: "a.pem", Data: []byte("a")}}}
	engWrite(t, dir, "a.pem", "0", 0o644)
	for i := range 12 {
		if _, err := Apply(context.Background(), NewLocal(), p, engNow.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// Three installs in the same second get -2 and -3.
	var last *InstallReport
	for range 3 {
		rep, err := Apply(context.Background(), NewLocal(), p, engNow.Add(20*time.Hour))
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
	p := Plan{Directory: dir, Files: []PlanFile{{Path: "a.pem", Data: []byte("a")}}}
	for _, b := range []string{"", "..", "../../etc", "/etc", filepath.Join(dir, "x"), "20260314T092653Z/../../x"} {
		if _, err := Rollback(context.Background(), NewLocal(), p, b); err == nil || !strings.Contains(err.Error(), "not a backup folder") {
			t.Errorf("Rollback(%q): %v, want refused", b, err)
		}
	}
	// A hostile manifest is refused before anything is touched.
	engWrite(t, dir, ".certkeeper-backup/20260314T092653Z/manifest.json",
		`{"version":1,"time":"2026-03-14T09:26:53Z","written":["../outside"]}`, 0o600)
	if _, err := Rollback(context.Background(), NewLocal(), p, "20260314T092653Z"); err == nil || !strings.Contains(err.Error(), `".."`) {
		t.Errorf("Rollback with a hostile manifest: %v", err)
	}
}

// engCounterCheck matches from its n-th call on.
func engCounterCheck(n int, calls *int) CheckFunc {
	return func(_ context.Context, spec inventory.CheckSpec, want Want) *inventory.CheckResult {
		*calls++
		ok := *calls >= n
		return &inventory.CheckResult{Address: spec.Host, Match: ok, Passed: ok, ExpectedSHA256: want.ExpectedSHA256}
	}
}

// engSettle lowers the check settle time for a test.
func engSettle(t *testing.T, settle, interval time.Duration) {
	oldSettle, oldInterval := checkSettle, checkInterval
	checkSettle, checkInterval = settle, interval
	t.Cleanup(func() { checkSettle, checkInterval = oldSettle, oldInterval })
}

func TestRunLocalCheckSettles(t *testing.T) {
	engSettle(t, 2*time.Second, 10*time.Millisecond)
	dir := t.TempDir()
	j := Job{Plan: engPlan(t, dir), Check: inventory.CheckSpec{Host: "127.0.0.1"}, ExpectedSHA256: strings.Repeat("ab", 32)}
	var calls int
	out := Run(context.Background(), NewLocal(), j, engCounterCheck(3, &calls), engNow)
	if out.Error != "" || !out.Installed || out.RolledBack || calls != 4 || !out.Check.Passed {
		t.Errorf("Run: %+v after %d checks, want installed and passed on the third, confirmed by the fourth", out, calls)
	}
	if out.Check.ExpectedSHA256 != j.ExpectedSHA256 {
		t.Errorf("the check got want %q, want it from Job.Want", out.Check.ExpectedSHA256)
	}
}

func TestRunLocalCheckFailsRollsBack(t *testing.T) {
	engSettle(t, 100*time.Millisecond, 10*time.Millisecond)
	dir := t.TempDir()
	j := Job{Plan: engPlan(t, dir), Check: inventory.CheckSpec{Host: "127.0.0.1"}, RollbackOnFailure: true}
	j.Plan.ReloadCommand = "echo reload"
	var calls int
	out := Run(context.Background(), NewLocal(), j, engCounterCheck(1000, &calls), engNow)
	if !out.Installed || !out.RolledBack || !strings.Contains(out.Error, "check failed") || calls < 2 {
		t.Fatalf("Run: %+v after %d checks, want installed, check failed, rolled back", out, calls)
	}
	engAssertFile(t, filepath.Join(dir, "privkey.pem"), "old key", 0o600)
	engAssertMissing(t, filepath.Join(dir, "sub/extra.pem"))
	if strings.Count(out.Install.ReloadOutput, "reload") < 2 {
		t.Errorf("ReloadOutput %q, want the reload after the roll back too", out.Install.ReloadOutput)
	}
}

func TestRunFirstInstallCheckFailsRemovesCreated(t *testing.T) {
	engSettle(t, 50*time.Millisecond, 10*time.Millisecond)
	dir := t.TempDir()
	p := Plan{Directory: dir, Files: []PlanFile{{Path: "cert.pem", Data: []byte("new"), Mode: 0o644},
		{Path: "sub/key.pem", Data: []byte("key"), Mode: 0o600, Secret: true}}}
	j := Job{Plan: p, Check: inventory.CheckSpec{Host: "127.0.0.1"}, RollbackOnFailure: true}
	out := Run(context.Background(), NewLocal(), j, engCounterCheck(1000, new(int)), engNow)
	if !out.Installed || !out.RolledBack || !strings.Contains(out.Error, "2 files this install created were removed") {
		t.Fatalf("Run: %+v, want the created files removed", out)
	}
	engAssertMissing(t, filepath.Join(dir, "cert.pem"))
	engAssertMissing(t, filepath.Join(dir, "sub/key.pem"))
}

// recordingTurns records what is done in turns and whether a turn is
// being taken.
type recordingTurns struct {
	h               Host
	inTurn          bool
	installs, alone int
}

func (r *recordingTurns) Install(ctx context.Context, p Plan, now time.Time) (*InstallReport, error) {
	r.inTurn, r.installs = true, r.installs+1
	defer func() { r.inTurn = false }()
	return Apply(ctx, r.h, p, now)
}

func (r *recordingTurns) Alone(fn func()) {
	r.inTurn, r.alone = true, r.alone+1
	defer func() { r.inTurn = false }()
	fn()
}

// TestRunTurnsTakesTurnsForFilesNotCheck: the install and the roll back
// go through the turns, the check never does.
func TestRunTurnsTakesTurnsForFilesNotCheck(t *testing.T) {
	engSettle(t, 50*time.Millisecond, 10*time.Millisecond)
	dir := t.TempDir()
	j := Job{Plan: engPlan(t, dir), Check: inventory.CheckSpec{Host: "127.0.0.1"}, RollbackOnFailure: true}
	turns := &recordingTurns{h: NewLocal()}
	inTurnDuringCheck := false
	check := func(_ context.Context, spec inventory.CheckSpec, want Want) *inventory.CheckResult {
		inTurnDuringCheck = inTurnDuringCheck || turns.inTurn
		return &inventory.CheckResult{Address: spec.Host}
	}
	out := RunTurns(context.Background(), NewLocal(), j, check, engNow, turns)
	if !out.Installed || !out.RolledBack {
		t.Fatalf("RunTurns: %+v, want installed then rolled back", out)
	}
	if turns.installs != 1 || turns.alone != 1 || inTurnDuringCheck {
		t.Errorf("installs %d, alone %d, in a turn during the check %v; want 1, 1 (the roll back), false",
			turns.installs, turns.alone, inTurnDuringCheck)
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

func TestRunLocalFailures(t *testing.T) {
	dir := t.TempDir()
	bad := Run(context.Background(), NewLocal(), Job{Plan: Plan{Directory: "relative"}}, nil, engNow)
	if bad.Installed || bad.Error == "" {
		t.Errorf("Run with a bad plan: %+v", bad)
	}
	j := Job{Plan: engPlan(t, dir), Check: inventory.CheckSpec{Host: "x"}, ExpectedSHA256: "zz"}
	out := Run(context.Background(), NewLocal(), j, engCounterCheck(1, new(int)), engNow)
	if !out.Installed || !strings.Contains(out.Error, "64 hex digits") {
		t.Errorf("Run with a bad expected hash: %+v", out)
	}
	panicky := func(context.Context, inventory.CheckSpec, Want) *inventory.CheckResult { panic("boom") }
	out = Run(context.Background(), NewLocal(), Job{Plan: engPlan(t, dir), Check: inventory.CheckSpec{Host: "x"}}, panicky, engNow)
	if !strings.Contains(out.Error, "boom") {
		t.Errorf("Run with a panicking check: %+v", out)
	}
}

func TestBackupNames(t *testing.T) {
	re := regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z$`)
	if s := engNow.Format(backupTimeFormat); !re.MatchString(s) || !backupName.MatchString(s) {
		t.Errorf("backup name %q", s)
	}
	names := []string{"20260314T092653Z-10", "20260314T092653Z-2", "20260314T092653Z", "20250101T000000Z"}
	slices.SortFunc(names, compareBackups)
	want := []string{"20250101T000000Z", "20260314T092653Z", "20260314T092653Z-2", "20260314T092653Z-10"}
	if !slices.Equal(names, want) {
		t.Errorf("sorted %q, want %q", names, want)
	}
}
