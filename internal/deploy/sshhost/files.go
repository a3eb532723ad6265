package sshhost

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/pkg/sftp"
)

// String names the host: "ssh user@host:port".
func (h *Host) String() string { return h.name }

// Close ends the SFTP session, the keepalives and the connection.
func (h *Host) Close() error {
	var err error
	h.closing.Do(func() {
		close(h.done)
		if h.sftp != nil {
			err = h.sftp.Close()
		}
		if cerr := h.client.Close(); err == nil {
			err = cerr
		}
	})
	return err
}

// ReadFile returns a regular file's content and permission bits.
func (h *Host) ReadFile(ctx context.Context, name string) (data []byte, mode fs.FileMode, err error) {
	err = h.guard(ctx, func() error {
		data, mode, err = h.readFile(name)
		return err
	})
	return data, mode, err
}

func (h *Host) readFile(name string) ([]byte, fs.FileMode, error) {
	f, err := h.sftp.Open(name)
	if err != nil {
		return nil, 0, pathError("open", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, pathError("stat", name, err)
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

// pathError names the file in an SFTP error, keeping it inspectable
// (errors.Is(err, fs.ErrNotExist)).
func pathError(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// WriteFile replaces name atomically: a temporary file in the same
// directory gets mode, then owner (chown over a session), then data, and
// is renamed over name with posix-rename.
func (h *Host) WriteFile(ctx context.Context, name string, data []byte, mode fs.FileMode, owner string) error {
	return h.guard(ctx, func() error { return h.writeFile(ctx, name, data, mode, owner) })
}

func (h *Host) writeFile(ctx context.Context, name string, data []byte, mode fs.FileMode, owner string) error {
	if err := h.mkdirAll(path.Dir(name)); err != nil {
		return err
	}
	tmp, err := tempName(name)
	if err != nil {
		return err
	}
	if err := h.writeTemp(ctx, tmp, data, mode, owner); err != nil {
		_ = h.sftp.Remove(tmp) // the write failed already; this is cleanup
		return err
	}
	if err := h.sftp.PosixRename(tmp, name); err != nil {
		_ = h.sftp.Remove(tmp)
		return pathError("rename", name, err)
	}
	return nil
}

func tempName(name string) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return path.Join(path.Dir(name), "."+path.Base(name)+".certkeeper-"+hex.EncodeToString(b)+".tmp"), nil
}

func (h *Host) writeTemp(ctx context.Context, tmp string, data []byte, mode fs.FileMode, owner string) error {
	f, err := h.sftp.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return pathError("create", tmp, err)
	}
	err = h.fillTemp(ctx, f, tmp, data, mode, owner)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = pathError("close", tmp, cerr)
	}
	return err
}

func (h *Host) fillTemp(ctx context.Context, f *sftp.File, tmp string, data []byte, mode fs.FileMode, owner string) error {
	if err := f.Chmod(mode); err != nil {
		return pathError("chmod", tmp, err)
	}
	if owner != "" {
		if err := h.chown(ctx, tmp, owner); err != nil {
			return err
		}
	}
	if _, err := f.Write(data); err != nil {
		return pathError("write", tmp, err)
	}
	return syncFile(f, tmp)
}

// syncFile flushes f when the server has the fsync@openssh.com extension.
func syncFile(f *sftp.File, name string) error {
	err := f.Sync()
	var se *sftp.StatusError
	if err == nil || errors.As(err, &se) && se.FxCode() == sftp.ErrSSHFxOpUnsupported {
		return nil
	}
	return pathError("sync", name, err)
}

// chown runs chown on the server: SFTP takes numeric ids only, and the
// names are the server's.
func (h *Host) chown(ctx context.Context, name, owner string) error {
	if strings.HasPrefix(owner, "-") {
		return fmt.Errorf("owner %q: must not start with -", owner)
	}
	out, err := h.run(ctx, "chown "+engine.ShellQuote(owner)+" "+engine.ShellQuote(name), engine.DefaultCommandTimeout)
	if err != nil {
		return fmt.Errorf("chown %s %s: %v: %s", owner, name, err, engine.LastLine(out))
	}
	return nil
}

// Remove deletes a file; a missing one is not an error.
func (h *Host) Remove(ctx context.Context, name string) error {
	return h.guard(ctx, func() error {
		if err := h.sftp.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return pathError("remove", name, err)
		}
		return nil
	})
}

// Mkdir creates one folder with mode 0700 (backups hold private keys).
func (h *Host) Mkdir(ctx context.Context, name string) error {
	return h.guard(ctx, func() error { return h.mkdir(name) })
}

func (h *Host) mkdir(name string) error {
	if _, err := h.sftp.Lstat(name); err == nil {
		return pathError("mkdir", name, fs.ErrExist)
	}
	if err := h.sftp.Mkdir(name); err != nil {
		return pathError("mkdir", name, err)
	}
	if err := h.sftp.Chmod(name, 0o700); err != nil {
		return pathError("chmod", name, err)
	}
	return nil
}

// MkdirAll creates name and its missing parents with mode 0755.
func (h *Host) MkdirAll(ctx context.Context, name string) error {
	return h.guard(ctx, func() error { return h.mkdirAll(name) })
}

func (h *Host) mkdirAll(name string) error {
	fi, err := h.sftp.Stat(name)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return fmt.Errorf("%s is not a directory", name)
	case !errors.Is(err, fs.ErrNotExist):
		return pathError("stat", name, err)
	}
	if parent := path.Dir(name); parent != name {
		if err := h.mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := h.sftp.Mkdir(name); err != nil {
		return pathError("mkdir", name, err)
	}
	if err := h.sftp.Chmod(name, 0o755); err != nil {
		return pathError("chmod", name, err)
	}
	return nil
}

// ReadDir returns the names in a folder.
func (h *Host) ReadDir(ctx context.Context, name string) ([]string, error) {
	var infos []fs.FileInfo
	err := h.guard(ctx, func() (err error) {
		infos, err = h.sftp.ReadDir(name)
		return err
	})
	if err != nil {
		return nil, pathError("readdir", name, err)
	}
	names := make([]string, len(infos))
	for i, fi := range infos {
		names[i] = fi.Name()
	}
	return names, nil
}

// RemoveAll deletes name and everything under it, without following
// symbolic links.
func (h *Host) RemoveAll(ctx context.Context, name string) error {
	return h.guard(ctx, func() error {
		if err := h.sftp.RemoveAll(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return pathError("remove", name, err)
		}
		return nil
	})
}
