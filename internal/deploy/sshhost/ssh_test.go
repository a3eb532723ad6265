package sshhost

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/internal/deploytest"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
	"golang.org/x/crypto/ssh"
)

// sshConfig is how to log in to s.
func sshConfig(t *testing.T, s *testenv.SSHD) Config {
	t.Helper()
	host, port := deploytest.SplitAddr(t, s.Addr)
	return Config{Access: inventory.SSHAccess{Host: host, Port: port, User: s.User, HostKey: s.HostKey},
		PrivateKey: s.ClientKey, Timeout: 10 * time.Second}
}

func dialHost(t *testing.T, s *testenv.SSHD) *Host {
	t.Helper()
	h, err := Dial(context.Background(), sshConfig(t, s))
	if err != nil {
		t.Fatalf("Dial: %v\n%s", err, s.Log())
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestSSHApplyAndRollback(t *testing.T) {
	s := testenv.StartSSHD(t)
	h := dialHost(t, s)
	if want := "ssh " + s.User + "@" + s.Addr; h.String() != want {
		t.Errorf("String %q, want %q", h.String(), want)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "certs") // the sshd runs on this machine
	p := deploytest.Plan(t, dir)
	p.Owner = u.Uid + ":" + u.Gid
	p.TestCommand = "echo test over ssh"
	p.ReloadCommand = "echo reloaded over ssh; echo to stderr >&2"
	ctx := context.Background()
	rep, err := engine.Apply(ctx, h, p, deploytest.Now)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	deploytest.AssertFile(t, filepath.Join(dir, "fullchain.pem"), "new cert", 0o644)
	deploytest.AssertFile(t, filepath.Join(dir, "privkey.pem"), "new key", 0o640)
	deploytest.AssertFile(t, filepath.Join(dir, "sub/extra.pem"), "extra", 0o600)
	if !strings.Contains(rep.ReloadOutput, "reloaded over ssh") || !strings.Contains(rep.ReloadOutput, "to stderr") ||
		!strings.Contains(rep.TestOutput, "test over ssh") {
		t.Errorf("outputs %q, %q", rep.TestOutput, rep.ReloadOutput)
	}
	deploytest.AssertBackup(t, rep.Backup)
	engAssertNoTemp(t, dir)

	out, err := engine.Rollback(ctx, h, p, filepath.Base(rep.Backup))
	if err != nil || !strings.Contains(out, "reloaded over ssh") {
		t.Fatalf("Rollback: %q, %v", out, err)
	}
	deploytest.AssertFile(t, filepath.Join(dir, "fullchain.pem"), "old cert", 0o644)
	deploytest.AssertFile(t, filepath.Join(dir, "privkey.pem"), "old key", 0o600)
	deploytest.AssertMissing(t, filepath.Join(dir, "sub/extra.pem"))
}

// engAssertNoTemp checks no temporary file is left in dir.
func engAssertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left", e.Name())
		}
	}
}

func TestSSHOwnerByName(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to another user needs root")
	}
	s := testenv.StartSSHD(t)
	h := dialHost(t, s)
	dir := t.TempDir()
	p := engine.Plan{Directory: dir, Owner: "nobody", Files: []engine.PlanFile{{Path: "odd 'name'.pem", Data: []byte("k"), Mode: 0o640}}}
	if _, err := engine.Apply(context.Background(), h, p, deploytest.Now); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "odd 'name'.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || fi.Mode().Perm() != 0o640 {
		t.Errorf("got uid %d mode %#o, want 65534 0640", st.Uid, fi.Mode().Perm())
	}
	p.Owner = "no-such-user-certkeeper"
	p.Files[0].Data = []byte("changed")
	if _, err := engine.Apply(context.Background(), h, p, deploytest.Now); err == nil || !strings.Contains(err.Error(), "chown") {
		t.Errorf("Apply with an unknown owner: %v", err)
	}
	deploytest.AssertFile(t, filepath.Join(dir, "odd 'name'.pem"), "k", 0o640)
	engAssertNoTemp(t, dir)
}

func TestSSHWrongHostKey(t *testing.T) {
	s := testenv.StartSSHD(t)
	c := sshConfig(t, s)
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	c.Access.HostKey = string(ssh.MarshalAuthorizedKey(other))
	dir := t.TempDir()
	h, err := Dial(context.Background(), c)
	if err == nil {
		_, _ = engine.Apply(context.Background(), h, engine.Plan{Directory: dir, Files: []engine.PlanFile{{Path: "a.pem", Data: []byte("a")}}}, deploytest.Now)
		h.Close()
		t.Fatal("Dial with another pinned key succeeded")
	}
	deploytest.AssertMissing(t, filepath.Join(dir, "a.pem"))
	served, _, _, _, _ := ssh.ParseAuthorizedKey([]byte(s.HostKey))
	msg := err.Error()
	if !strings.Contains(msg, "host key mismatch") || !strings.Contains(msg, ssh.FingerprintSHA256(served)) || strings.Contains(msg, "\n") {
		t.Errorf("Dial: %q, want a one-line mismatch with the presented key's fingerprint %s", msg, ssh.FingerprintSHA256(served))
	}
	c.Access.HostKey = ""
	if _, err := Dial(context.Background(), c); err == nil || !strings.Contains(err.Error(), "no pinned host key") {
		t.Errorf("Dial without a pinned key: %v", err)
	}
}

func TestScanHostKey(t *testing.T) {
	s := testenv.StartSSHD(t)
	got, err := ScanHostKey(context.Background(), s.Addr, 5*time.Second)
	if err != nil || got != s.HostKey {
		t.Errorf("ScanHostKey: %q, %v; want %q", got, err, s.HostKey)
	}
	if _, err := ScanHostKey(context.Background(), testenv.FreeAddr(t), time.Second); err == nil {
		t.Error("ScanHostKey of a closed port succeeded")
	}
}

func TestSSHRun(t *testing.T) {
	s := testenv.StartSSHD(t)
	h := dialHost(t, s)
	ctx := context.Background()
	start := time.Now()
	if _, err := h.Run(ctx, "sleep 10", 300*time.Millisecond); err == nil || err.Error() != "timed out after 0.3s" {
		t.Errorf("Run sleep: %v, want timed out after 0.3s", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %s", d)
	}
	if out, err := h.Run(ctx, "echo out; exit 4", time.Minute); err == nil || err.Error() != "exit code 4" || out != "out\n" {
		t.Errorf("Run exit 4: %q, %v", out, err)
	}
	if _, _, err := h.ReadFile(ctx, filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v, want fs.ErrNotExist", err)
	}
	if err := h.Remove(ctx, filepath.Join(t.TempDir(), "missing")); err != nil {
		t.Errorf("Remove of a missing file: %v", err)
	}
}
