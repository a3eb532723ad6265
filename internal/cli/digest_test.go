package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/client"
)

// TestDigestCommands previews the digest (text and JSON) and asks for a
// send with no admin e-mail set: nothing is sent, and the reason is told.
func TestDigestCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	must := func(args ...string) string {
		t.Helper()
		r := run(t, dir, nil, args...)
		if r.err != nil {
			t.Fatalf("certkeeper %q: %v\nstderr: %s", args, r.err, r.stderr)
		}
		return r.stdout
	}
	must("target", "add", "--name", "web", "--preset", "nginx", "--method", "directory", "--dir", filepath.Join(dir, "tls"))
	out := must("digest")
	if !strings.HasPrefix(out, "certkeeper digest ") || !strings.Contains(out, "== Needs action ==") ||
		!strings.Contains(out, "target.create") {
		t.Errorf("digest preview:\n%s\nwant the subject, the sections and the target's creation", out)
	}
	var d client.Digest
	if err := json.Unmarshal([]byte(must("digest", "--json")), &d); err != nil || d.Empty || len(d.Changed) != 1 {
		t.Fatalf("digest --json = %+v, %v; want one section of changes", d, err)
	}
	if out := must("digest", "send"); !strings.Contains(out, "digest not sent: no recipient") {
		t.Errorf("digest send without an admin e-mail = %q", out)
	}
	if r := run(t, dir, nil, "digest", "extra"); r.err == nil {
		t.Error("digest with an argument succeeded")
	}
}
