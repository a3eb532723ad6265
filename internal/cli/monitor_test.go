package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/client"
)

// TestMonitorCommands: add, list, run, show, history and remove an
// endpoint served by a real TLS server on loopback; bad input is one
// clear line.
func TestMonitorCommands(t *testing.T) {
	dir := t.TempDir()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "https://")
	if r := run(t, dir, nil, "import", certFile(t, t.TempDir(), "www.example.test")); r.err != nil {
		t.Fatalf("import: %v", r.err)
	}

	r := run(t, dir, nil, "monitor", "add", addr, "--interval", "6h", "--label", "web", "--json")
	if r.err != nil {
		t.Fatalf("monitor add: %v\n%s", r.err, r.stderr)
	}
	var ep client.Endpoint
	if err := json.Unmarshal([]byte(r.stdout), &ep); err != nil || ep.ID == 0 || ep.Status != "pending" || ep.Labels[0] != "web" {
		t.Fatalf("monitor add --json = %q (%v); want a pending endpoint labelled web", r.stdout, err)
	}
	id := itoaID(ep.ID)

	r = run(t, dir, nil, "monitor", "run", "--json")
	var l client.EndpointList
	if err := json.Unmarshal([]byte(r.stdout), &l); r.err != nil || err != nil || len(l.Items) != 1 || l.Items[0].Last == nil {
		t.Fatalf("monitor run --json = %q, %v, %v; want the endpoint with a result", r.stdout, r.err, err)
	}
	if last := l.Items[0].Last; last.Check.Error != "" || len(last.ChainSHA256) != 1 {
		t.Errorf("result = %+v; want httptest's certificate observed", last)
	}
	// With --progress the bar goes to standard error, the table to
	// standard output.
	r = run(t, dir, nil, "monitor", "run", id, "--progress")
	if r.err != nil || !strings.Contains(r.stdout, addr) || !strings.Contains(r.stderr, "checking") {
		t.Errorf("monitor run --progress: err %v, stdout %q, stderr %q; want the table and a bar", r.err, r.stdout, r.stderr)
	}

	for _, args := range [][]string{{"monitor", "list"}, {"monitor", "list", "--source", "manual", "--q", "127.0.0.1"},
		{"monitor", "show", id}, {"monitor", "history", id}} {
		r = run(t, dir, nil, args...)
		if r.err != nil || !strings.Contains(r.stdout, "failed") {
			t.Errorf("%s: err %v, stdout %q; want the failed (untrusted) result", strings.Join(args, " "), r.err, r.stdout)
		}
	}
	r = run(t, dir, nil, "monitor", "history", id, "--json")
	var h client.EndpointHistory
	if err := json.Unmarshal([]byte(r.stdout), &h); err != nil || len(h.Items) != 2 {
		t.Errorf("monitor history --json = %q (%v); want 2 results", r.stdout, err)
	}

	for args, msg := range map[string]string{
		"monitor add no-port":                     "address",
		"monitor add a.test:443 --interval 10s":   "interval",
		"monitor add a.test:443 --starttls gophr": "starttls",
		"monitor list --status bogus":             "status",
		"monitor show x":                          "not a valid endpoint ID",
	} {
		r = run(t, dir, nil, strings.Fields(args)...)
		if r.err == nil || !strings.Contains(r.err.Error(), msg) || strings.Contains(r.err.Error(), "\n") {
			t.Errorf("%s: err %v; want one line about %s", args, r.err, msg)
		}
	}

	if r = run(t, dir, nil, "monitor", "remove", id); r.err != nil {
		t.Fatalf("monitor remove: %v", r.err)
	}
	r = run(t, dir, nil, "monitor", "list")
	if r.err != nil || !strings.Contains(r.stdout, "no monitored endpoints") {
		t.Errorf("monitor list after remove = %q, %v", r.stdout, r.err)
	}
}

func itoaID(id int64) string {
	b, _ := json.Marshal(id)
	return string(b)
}
