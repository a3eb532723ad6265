// Package localhost is the machine certkeeper runs on as an engine.Host:
// files are replaced atomically with os calls, commands run through
// /bin/sh in the plan's directory, and a command that runs out of time is
// killed with its whole process group. The deploy service uses it for
// directory targets; the agent and `certkeeper install` for their own
// machine.
package localhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/certkeeper/certkeeper/internal/atomicfile"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
)

// localHost is the machine certkeeper (or the agent) runs on.
type localHost struct{}

var (
	_ engine.Host       = localHost{}
	_ engine.FolderHost = localHost{}
	_ engine.DirRunner  = localHost{}
)

// New returns the local machine as an engine.Host. Commands run through
// /bin/sh; an install's commands run in the plan's directory.
func New() engine.Host { return localHost{} }

// String names the host in messages.
func (localHost) String() string { return "local" }

// ReadFile returns a regular file's content and permission bits.
func (localHost) ReadFile(_ context.Context, name string) ([]byte, fs.FileMode, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s is not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, engine.MaxFileSize+1))
	if err == nil && len(data) > engine.MaxFileSize {
		err = fmt.Errorf("%s is larger than %d bytes", name, engine.MaxFileSize)
	}
	return data, fi.Mode().Perm(), err
}

// WriteFile replaces name atomically: a temporary file in the same
// directory gets mode and owner, then data, is synced and renamed over
// name, and the directory is synced.
func (localHost) WriteFile(_ context.Context, name string, data []byte, mode fs.FileMode, owner string) error {
	uid, gid, err := lookupOwner(owner)
	if err != nil {
		return err
	}
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".certkeeper-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	err = fillTemp(f, data, mode, uid, gid)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, name); err != nil {
		return err
	}
	return atomicfile.SyncDir(dir)
}

// fillTemp sets owner and mode, then writes and syncs data.
func fillTemp(f *os.File, data []byte, mode fs.FileMode, uid, gid int) error {
	if uid != -1 || gid != -1 {
		if err := f.Chown(uid, gid); err != nil {
			return err
		}
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Sync()
}

// lookupOwner resolves "user" or "user:group" (names or numeric ids) to
// ids; -1 means unchanged, and "" changes nothing.
func lookupOwner(owner string) (uid, gid int, err error) {
	if owner == "" {
		return -1, -1, nil
	}
	name, group, _ := strings.Cut(owner, ":")
	if uid, err = lookupID(name, user.Lookup, func(u *user.User) string { return u.Uid }); err != nil {
		return 0, 0, fmt.Errorf("owner %q: %w", owner, err)
	}
	if group == "" {
		return uid, -1, nil
	}
	if gid, err = lookupID(group, user.LookupGroup, func(g *user.Group) string { return g.Gid }); err != nil {
		return 0, 0, fmt.Errorf("owner %q: %w", owner, err)
	}
	return uid, gid, nil
}

// lookupID resolves a user or group name, or takes a numeric id as is.
func lookupID[T any](name string, lookup func(string) (*T, error), id func(*T) string) (int, error) {
	if name == "" {
		return -1, nil
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	v, err := lookup(name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(id(v))
}

// Remove deletes a file; a missing one is not an error.
func (localHost) Remove(_ context.Context, name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Mkdir creates one folder with mode 0700 (backups hold private keys).
func (localHost) Mkdir(_ context.Context, name string) error { return os.Mkdir(name, 0o700) }

// MkdirAll creates name and its missing parents with mode 0755.
func (localHost) MkdirAll(_ context.Context, name string) error { return os.MkdirAll(name, 0o755) }

// ReadDir returns the names in a folder.
func (localHost) ReadDir(_ context.Context, name string) ([]string, error) {
	entries, err := os.ReadDir(name)
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, err
}

// RemoveAll deletes name and everything under it.
func (localHost) RemoveAll(_ context.Context, name string) error { return os.RemoveAll(name) }

// Run runs command with /bin/sh in the current directory.
func (l localHost) Run(ctx context.Context, command string, timeout time.Duration) (string, error) {
	return l.RunIn(ctx, "", command, timeout)
}

// RunIn runs command with /bin/sh in dir ("" is the current directory).
// When timeout passes, the command's whole process group is killed.
func (localHost) RunIn(ctx context.Context, dir, command string, timeout time.Duration) (string, error) {
	timeout = engine.CommandTimeout(timeout)
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(tctx, "/bin/sh", "-c", command)
	cmd.Dir = dir
	var out engine.OutputBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	switch {
	case err == nil:
		return out.String(), nil
	case ctx.Err() != nil:
		return out.String(), ctx.Err()
	case tctx.Err() != nil:
		return out.String(), engine.TimeoutError(timeout)
	}
	return out.String(), exitError(err)
}

// exitError turns exec's error into "exit code N" when the command ran.
func exitError(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		return fmt.Errorf("exit code %d", ee.ExitCode())
	}
	return err
}
