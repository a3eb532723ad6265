// Package access decides which network addresses may reach certkeeper's
// web UI and API: an IP allow-list kept in a file of the data directory
// (reloaded when it changes, editable by admins) and the client address
// of a request, taken from forwarded headers only when the direct peer is
// a configured trusted proxy.
//
// The file holds one CIDR prefix or address per line (see ParsePrefixes).
// Open writes the default list (loopback and private ranges) when the
// file is missing; Run reloads it when its content changes, keeping the
// previous list when the new one is broken; Replace writes it for the
// API, refusing a list that would lock the admin out; Guard refuses the
// requests of addresses the list does not allow.
package access

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certkeeper/certkeeper/internal/atomicfile"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// FileMode is the mode of the allow-list file certkeeper writes: only the
// service account reads it, like everything else in the data directory.
const FileMode fs.FileMode = 0o600

// DefaultPoll is how often Run looks at the file.
const DefaultPoll = 2 * time.Second

// Auditor records allow-list changes in the audit trail; an
// inventory.Store is one.
type Auditor interface {
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
}

// List is the IP allow-list. It is safe for concurrent use.
type List struct {
	// Poll is how often Run looks at the file; 0 means DefaultPoll. Set it
	// before calling Run.
	Poll time.Duration

	path  string
	audit Auditor
	log   *slog.Logger

	cur atomic.Pointer[[]netip.Prefix] // read on every request

	mu   sync.Mutex // serialises Replace and reloads
	seen string     // the file state last acted on: content hash or error
}

// Open reads the allow-list file at path, writing the default list
// (loopback and private ranges) there first when it does not exist; the
// directory must exist. A broken or empty file is an error: there is no
// previous list to keep. audit (required) records Replace; an
// inventory.Store will do.
func Open(path string, audit Auditor, log *slog.Logger) (*List, error) {
	l := &List{path: path, audit: audit, log: log}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		data = []byte(defaultFile())
		if err := atomicfile.Write(path, data, FileMode); err != nil {
			return nil, fmt.Errorf("access: write default allow-list: %w", err)
		}
		log.Info("IP allow-list file created with the default list (loopback and private networks)",
			"path", path, "entries", len(defaults))
	} else if err != nil {
		return nil, fmt.Errorf("access: %w", err)
	}
	prefixes, err := parseFile(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	l.cur.Store(&prefixes)
	l.seen = contentHash(data)
	log.Info("IP allow-list loaded", "path", path, "entries", len(prefixes))
	return l, nil
}

var errEmpty = errors.New("access: the allow-list has no entries (delete the file to get the default list)")

// parseFile parses the file's content, refusing an empty list, which
// would refuse every client.
func parseFile(data []byte) ([]netip.Prefix, error) {
	prefixes, err := ParsePrefixes(string(data))
	if err == nil && len(prefixes) == 0 {
		err = errEmpty
	}
	return prefixes, err
}

func contentHash(data []byte) string {
	sum := sha256.Sum256(data)
	return string(sum[:])
}

// Prefixes returns the list in force.
func (l *List) Prefixes() []netip.Prefix { return slices.Clone(*l.cur.Load()) }

// Allows reports whether addr may connect. IPv4-mapped IPv6 addresses
// are compared as IPv4; the invalid address is never allowed.
func (l *List) Allows(addr netip.Addr) bool {
	return allows(*l.cur.Load(), addr)
}

func allows(prefixes []netip.Prefix, addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range prefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Replace writes a new list to the file and puts it in force at once. It
// refuses (an *inventory.FieldError for field "prefixes"; nothing
// changes) an empty list and a list that would not allow caller, the
// address of the admin making the change. The change is audited as
// actor.
func (l *List) Replace(ctx context.Context, prefixes []netip.Prefix, caller netip.Addr, actor string) error {
	list, err := checkReplacement(prefixes, caller)
	if err != nil {
		return err
	}
	data := []byte(Format(list))
	l.mu.Lock()
	if err := atomicfile.Write(l.path, data, FileMode); err != nil {
		l.mu.Unlock()
		return fmt.Errorf("access: write allow-list: %w", err)
	}
	l.cur.Store(&list)
	l.seen = contentHash(data)
	l.mu.Unlock()
	l.log.Info("IP allow-list replaced", "path", l.path, "entries", len(list), "actor", actor)
	err = l.audit.AppendAudit(ctx, &inventory.AuditEvent{Actor: actor, Action: "allowlist.update",
		Object: inventory.ObjectAllowlist, Summary: entries(len(list))})
	if err != nil {
		return fmt.Errorf("access: audit: %w", err)
	}
	return nil
}

// checkReplacement normalizes a new list (masked, unmapped, without
// duplicates) and refuses one that is empty or locks caller out.
func checkReplacement(prefixes []netip.Prefix, caller netip.Addr) ([]netip.Prefix, error) {
	var list []netip.Prefix
	for _, p := range prefixes {
		n, err := normalize(p)
		if err != nil {
			return nil, inventory.Invalid("prefixes", "%q: %v", p.String(), err)
		}
		if !slices.Contains(list, n) {
			list = append(list, n)
		}
	}
	switch {
	case len(list) == 0:
		return nil, inventory.Invalid("prefixes", "the list is empty and would refuse every client")
	case !caller.IsValid():
		return nil, inventory.Invalid("prefixes", "your address is unknown, so the list cannot be checked not to lock you out")
	case !allows(list, caller):
		return nil, inventory.Invalid("prefixes", "the list does not allow your address %s and would lock you out", caller.Unmap().WithZone(""))
	}
	return list, nil
}

func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}

// Run reloads the file when its content changes, every Poll, until ctx
// ends; it then returns nil. A broken or unreadable file is logged once
// and the previous list stays in force.
func (l *List) Run(ctx context.Context) error {
	poll := l.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			l.reload()
		}
	}
}

// RunOnce does one round of Run's work: it reloads the file when its
// content changed. It returns nil; a broken or unreadable file is logged
// and the previous list stays in force. The process's scheduler calls it
// instead of Run.
func (l *List) RunOnce(context.Context) error {
	l.reload()
	return nil
}

// reload reads the file and puts its list in force if the content
// changed since last time and parses.
func (l *List) reload() {
	data, err := os.ReadFile(l.path)
	state := contentHash(data)
	if err != nil {
		state = "error: " + err.Error()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if state == l.seen {
		return
	}
	l.seen = state
	if err != nil {
		l.log.Error("IP allow-list file unreadable; the previous list stays in force", "path", l.path, "err", err)
		return
	}
	prefixes, err := parseFile(data)
	if err != nil {
		l.log.Error("IP allow-list file is broken; the previous list stays in force", "path", l.path, "err", err)
		return
	}
	l.cur.Store(&prefixes)
	l.log.Info("IP allow-list reloaded", "path", l.path, "entries", len(prefixes))
}
