package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/client"
)

// TestAlertCommands changes a rule through `alert rule` (only the flags
// given change), reads it back with `alert rules --json`, sets a label
// route, and checks the errors of bad input.
func TestAlertCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	must := func(args ...string) string {
		t.Helper()
		r := run(t, dir, nil, args...)
		if r.err != nil {
			t.Fatalf("certkeeper %q: %v\nstderr: %s", args, r.err, r.stderr)
		}
		return r.stdout
	}
	rules := func() map[string]client.AlertRule {
		t.Helper()
		var l []client.AlertRule
		if err := json.Unmarshal([]byte(must("alert", "rules", "--json")), &l); err != nil {
			t.Fatal(err)
		}
		out := map[string]client.AlertRule{}
		for _, r := range l {
			out[r.Name] = r
		}
		return out
	}
	must("target", "add", "--name", "web", "--preset", "nginx", "--method", "directory", "--dir", filepath.Join(dir, "tls"))
	before := rules()["leaf-expiry"]
	if len(rules()) != 12 || before.Changed || before.WarnDays != 30 {
		t.Fatalf("default rules: %d, leaf-expiry %+v", len(rules()), before)
	}
	must("alert", "rule", "leaf-expiry", "--warn-days", "20", "--repeat", "12h", "--channels", "ops,pager")
	got := rules()["leaf-expiry"]
	if !got.Changed || got.WarnDays != 20 || got.RepeatSeconds != 12*3600 || strings.Join(got.Channels, ",") != "ops,pager" ||
		got.CriticalDays != before.CriticalDays || got.WarnFraction != before.WarnFraction || !got.Enabled {
		t.Errorf("after alert rule: %+v, want warn 20 days, repeat 12h, channels ops,pager, the rest as before %+v", got, before)
	}
	must("alert", "rule", "endpoint-unreachable", "--enabled=false")
	if r := rules()["endpoint-unreachable"]; r.Enabled || r.Threshold != 3 {
		t.Errorf("after --enabled=false: %+v, want disabled with threshold 3", r)
	}
	if out := must("alert", "route", "prod", "--channels", "pager"); !strings.Contains(out, "prod -> pager") {
		t.Errorf("alert route output = %q, want prod -> pager", out)
	}
	if out := must("alert", "list"); !strings.Contains(out, "no alerts") {
		t.Errorf("alert list on a fresh inventory = %q, want no alerts", out)
	}
	for _, args := range [][]string{
		{"alert", "rule", "leaf-expiry", "--critical-days", "40"},
		{"alert", "rule", "no-such-rule", "--enabled=false"},
		{"alert", "silence", "1", "--reason", "x", "--until", "someday"},
		{"alert", "ack", "7", "--reason", "x"},
	} {
		if r := run(t, dir, nil, args...); r.err == nil {
			t.Errorf("certkeeper %q succeeded, want an error", args)
		}
	}
}
