package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstanceName: a configured name is checked and used; otherwise the
// first start writes one into the data directory and later starts read
// it back; a broken file or name is refused.
func TestInstanceName(t *testing.T) {
	dir := t.TempDir()
	first, err := instanceName("", dir)
	if err != nil || checkInstanceName(first) != nil {
		t.Fatalf("first start: %q, %v", first, err)
	}
	if again, err := instanceName("", dir); err != nil || again != first {
		t.Fatalf("second start: %q, %v; want %q", again, err, first)
	}
	if got, err := instanceName("node-1", dir); err != nil || got != "node-1" {
		t.Fatalf("configured name: %q, %v", got, err)
	}
	for _, bad := range []string{"a@b", "with space", strings.Repeat("x", 65), "é"} {
		if _, err := instanceName(bad, dir); err == nil {
			t.Errorf("instance name %q accepted", bad)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, InstanceFileName), []byte("no/slash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := instanceName("", dir); err == nil || !strings.Contains(err.Error(), InstanceFileName) {
		t.Errorf("broken instance-name file: %v, want an error naming the file", err)
	}
}
