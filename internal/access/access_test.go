package access

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

func newLog() (*slog.Logger, *testenv.Buffer) {
	b := &testenv.Buffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

// openStore returns a real SQLite inventory as the auditor.
func openStore(t *testing.T) inventory.Store {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestOpenWritesDefault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allowlist.txt")
	log, logs := newLog()
	l, err := Open(path, openStore(t), log)
	if err != nil {
		t.Fatal(err)
	}
	want := prefixes("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
	if diff := cmp.Diff(want, l.Prefixes(), cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("Prefixes (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != FileMode {
		t.Errorf("file mode %04o, want %04o", fi.Mode().Perm(), FileMode)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "# ") || !strings.Contains(string(data), "fc00::/7") {
		t.Errorf("default file lacks comments or entries:\n%s", data)
	}
	if !strings.Contains(logs.String(), "default list") {
		t.Errorf("log does not say the default list was written:\n%s", logs)
	}
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "192.168.1.20": true, "::ffff:10.1.2.3": true, "fd00::5": true,
		"8.8.8.8": false, "2001:db8::1": false, "::ffff:8.8.8.8": false,
	} {
		if got := l.Allows(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Allows(%s) = %v, want %v", addr, got, want)
		}
	}
	if l.Allows(netip.Addr{}) {
		t.Error("Allows(invalid address) = true")
	}
}

func TestOpenRefusesBrokenOrEmptyFile(t *testing.T) {
	for name, content := range map[string]string{
		"broken": "10.0.0.0/8\n# comment\n10.0.0.300\n",
		"empty":  "# nothing here\n\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "allowlist.txt")
			os.WriteFile(path, []byte(content), 0o600)
			log, _ := newLog()
			_, err := Open(path, openStore(t), log)
			if err == nil {
				t.Fatal("Open succeeded")
			}
			if name == "broken" && !strings.Contains(err.Error(), `line 3: "10.0.0.300"`) {
				t.Errorf("error %q does not name line 3 and its text", err)
			}
		})
	}
}

// running opens a list over content and runs it with a short poll.
func running(t *testing.T, content string) (*List, string, *testenv.Buffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "allowlist.txt")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	log, logs := newLog()
	l, err := Open(path, openStore(t), log)
	if err != nil {
		t.Fatal(err)
	}
	l.Poll = 10 * time.Millisecond
	done := make(chan error)
	ctx := t.Context()
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		// t.Context is cancelled just before Cleanup functions run.
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return l, path, logs
}

func TestRunReloadsOnChange(t *testing.T) {
	l, path, logs := running(t, "10.0.0.0/8\n")
	replaceFile(t, path, "192.0.2.0/24\n2001:db8::/32 # lab\n")
	testenv.WaitFor(t, 5*time.Second, "the edited list", func() bool { return l.Allows(netip.MustParseAddr("192.0.2.7")) })
	if l.Allows(netip.MustParseAddr("10.1.1.1")) {
		t.Error("the old entry 10.0.0.0/8 is still allowed after the reload")
	}
	testenv.WaitFor(t, 5*time.Second, "the reload log line", func() bool { return strings.Contains(logs.String(), "IP allow-list reloaded") })
	if !strings.Contains(logs.String(), "entries=2") {
		t.Errorf("reload log does not give the number of entries:\n%s", logs)
	}
}

func TestRunKeepsListWhenFileBroken(t *testing.T) {
	l, path, logs := running(t, "10.0.0.0/8\n")
	replaceFile(t, path, "192.0.2.0/24\nnot-an-address\n")
	testenv.WaitFor(t, 5*time.Second, "the broken-file log line", func() bool { return strings.Contains(logs.String(), "broken") })
	line := lineWith(logs.String(), "broken")
	if !strings.Contains(line, "line 2") || !strings.Contains(line, "not-an-address") {
		t.Errorf("broken-file log line does not name line 2 and its text: %s", line)
	}
	if got := l.Prefixes(); len(got) != 1 || got[0] != netip.MustParsePrefix("10.0.0.0/8") {
		t.Errorf("Prefixes after a broken edit = %v, want the previous [10.0.0.0/8]", got)
	}
	// Later looks at the unchanged broken file (what each poll does) log
	// nothing more.
	l.reload()
	l.reload()
	if n := strings.Count(logs.String(), "broken"); n != 1 {
		t.Errorf("the broken file was logged %d times after two more looks, want once", n)
	}
	replaceFile(t, path, "192.0.2.0/24\n")
	testenv.WaitFor(t, 5*time.Second, "the fixed list", func() bool { return l.Allows(netip.MustParseAddr("192.0.2.1")) })
}

// replaceFile swaps the file's content in one step (a renamed temporary
// file), so the watcher never reads it half-written or empty.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func lineWith(s, sub string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}

func TestReplace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allowlist.txt")
	st := openStore(t)
	log, _ := newLog()
	l, err := Open(path, st, log)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	caller := netip.MustParseAddr("::ffff:192.168.1.10") // as a dual-stack listener reports it
	for name, list := range map[string][]netip.Prefix{
		"lock-out": prefixes("10.0.0.0/8", "2001:db8::/32"),
		"empty":    nil,
	} {
		t.Run(name, func(t *testing.T) {
			err := l.Replace(t.Context(), list, caller, "alice")
			var fe *inventory.FieldError
			if !errors.As(err, &fe) || fe.Field != "prefixes" {
				t.Fatalf("Replace = %v, want a FieldError for prefixes", err)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Errorf("the refused Replace changed the file:\n%s", after)
			}
			if !l.Allows(netip.MustParseAddr("127.0.0.1")) {
				t.Error("the refused Replace changed the list in force")
			}
		})
	}

	if err := l.Replace(t.Context(), prefixes("192.168.1.0/24", "10.1.2.3/8", "10.0.0.0/8"), caller, "alice"); err != nil {
		t.Fatal(err)
	}
	if l.Allows(netip.MustParseAddr("127.0.0.1")) || !l.Allows(caller) {
		t.Error("the new list is not in force at once")
	}
	data, _ := os.ReadFile(path)
	got, err := ParsePrefixes(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"192.168.1.0/24", "10.0.0.0/8"}; join(got) != strings.Join(want, " ") {
		t.Errorf("file holds %s, want %s (masked, without duplicates)", join(got), want)
	}
	events, _, err := st.ListAudit(t.Context(), time.Time{}, inventory.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Action != "allowlist.update" || events[0].Object != "allowlist" ||
		events[0].Summary != "2 entries" || events[0].Actor != "alice" {
		t.Errorf("audit trail = %+v, want one allowlist.update by alice, \"2 entries\"", events)
	}
}

func join(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, " ")
}
