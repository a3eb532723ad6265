package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// MaxFileSize bounds a file read back from a host (a file to back up, a
// backup to restore): certificate files are small, and a host may lie.
const MaxFileSize = 16 << 20

// FolderHost is what Apply needs, beyond Host, to name backup folders
// without clashes and to keep only the newest ones. The local and SSH
// hosts have it; on a Host without it, backups are never pruned.
type FolderHost interface {
	// Mkdir creates the folder name (its parent exists); an existing
	// one gives an error wrapping fs.ErrExist.
	Mkdir(ctx context.Context, name string) error
	// MkdirAll creates name and its missing parents with mode 0755.
	MkdirAll(ctx context.Context, name string) error
	// ReadDir returns the names of the entries of the folder name.
	ReadDir(ctx context.Context, name string) ([]string, error)
	// RemoveAll deletes name and everything under it, without following
	// symbolic links.
	RemoveAll(ctx context.Context, name string) error
}

// DirRunner is a Host that can run a command in a working directory;
// an install's commands run in the plan's directory on such a host.
type DirRunner interface {
	// RunIn is Host.Run in the directory dir ("" is the host's default).
	RunIn(ctx context.Context, dir, command string, timeout time.Duration) (string, error)
}

// runIn runs command on h, in dir when h can.
func runIn(ctx context.Context, h Host, dir, command string, timeout time.Duration) (string, error) {
	if r, ok := h.(DirRunner); ok {
		return r.RunIn(ctx, dir, command, timeout)
	}
	return h.Run(ctx, command, timeout)
}

// CutMarker ends output that was cut at MaxOutput bytes.
const CutMarker = "[certkeeper: output cut at 16 KiB]"

// OutputBuffer keeps the first MaxOutput bytes written to it and notes
// that the rest was cut: a Host collects a command's output in one. Its
// zero value is empty and ready; it is safe for concurrent writers.
type OutputBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
	cut bool
}

// Write keeps what fits under MaxOutput and never fails.
func (b *OutputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := MaxOutput - b.buf.Len(); len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		b.cut = true
		return len(p), nil
	}
	b.buf.Write(p)
	return len(p), nil
}

// String returns the output kept, with the marker when some was cut.
func (b *OutputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.cut {
		return b.buf.String()
	}
	s := b.buf.String()
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s + CutMarker + "\n"
}

// LastLine returns the last non-empty line of a command's output (the
// cut marker of an OutputBuffer is not a line of it).
func LastLine(output string) string {
	lines := strings.Split(strings.TrimSpace(output), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && l != CutMarker {
			return l
		}
	}
	return ""
}

// ErrTimeout is wrapped by the error of a command that ran out of time
// (TimeoutError).
var ErrTimeout = errors.New("timed out")

// TimeoutError says a command was stopped after d; it wraps ErrTimeout.
func TimeoutError(d time.Duration) error {
	return fmt.Errorf("%w after %s", ErrTimeout, seconds(d))
}

// seconds formats d as "60s" or "0.5s".
func seconds(d time.Duration) string {
	return fmt.Sprintf("%gs", d.Seconds())
}

// ShellQuote quotes s for a POSIX shell: inside single quotes, each
// single quote of s ends the quoting, is escaped, and starts it again.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// CommandTimeout is t, or DefaultCommandTimeout when t is not positive:
// the time a Host gives a command.
func CommandTimeout(t time.Duration) time.Duration {
	if t <= 0 {
		return DefaultCommandTimeout
	}
	return t
}
