package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// maxFileSize bounds a file read back from a host (a file to back up, a
// backup to restore): certificate files are small, and a host may lie.
const maxFileSize = 16 << 20

// folderHost is what Apply needs, beyond Host, to name backup folders
// without clashes and to keep only the newest ones. Both hosts of this
// package have it; on a Host without it, backups are never pruned.
type folderHost interface {
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

// dirRunner is a Host that can run a command in a working directory.
type dirRunner interface {
	RunIn(ctx context.Context, dir, command string, timeout time.Duration) (string, error)
}

// runIn runs command on h, in dir when h can.
func runIn(ctx context.Context, h Host, dir, command string, timeout time.Duration) (string, error) {
	if r, ok := h.(dirRunner); ok {
		return r.RunIn(ctx, dir, command, timeout)
	}
	return h.Run(ctx, command, timeout)
}

// cutMarker ends output that was cut at MaxOutput bytes.
const cutMarker = "[certkeeper: output cut at 16 KiB]"

// outputBuffer keeps the first MaxOutput bytes written to it and notes
// that the rest was cut. It is safe for concurrent writers.
type outputBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
	cut bool
}

func (b *outputBuffer) Write(p []byte) (int, error) {
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
func (b *outputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.cut {
		return b.buf.String()
	}
	s := b.buf.String()
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s + cutMarker + "\n"
}

// lastLine returns the last non-empty line of a command's output (the
// cut marker is not a line of it).
func lastLine(output string) string {
	lines := strings.Split(strings.TrimSpace(output), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && l != cutMarker {
			return l
		}
	}
	return ""
}

// errTimeout is wrapped by the error of a command that ran out of time.
var errTimeout = errors.New("timed out")

// timeoutError says a command was stopped after d.
func timeoutError(d time.Duration) error {
	return fmt.Errorf("%w after %s", errTimeout, seconds(d))
}

// seconds formats d as "60s" or "0.5s".
func seconds(d time.Duration) string {
	return fmt.Sprintf("%gs", d.Seconds())
}

// shellQuote quotes s for a POSIX shell: inside single quotes, each
// single quote of s ends the quoting, is escaped, and starts it again.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commandTimeout is t, or DefaultCommandTimeout when t is not positive.
func commandTimeout(t time.Duration) time.Duration {
	if t <= 0 {
		return DefaultCommandTimeout
	}
	return t
}
