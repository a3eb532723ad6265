package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCAPolicyCommands: "ca policy show/set" from flags and from a JSON
// file, refused policies as one field error line, and "acquisition
// approve/reject" over the API: the user cannot approve, an admin can.
func TestCAPolicyCommands(t *testing.T) {
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	if out := c.ok("ca", "policy", "show"); !strings.Contains(out, "user: nothing") || !strings.Contains(out, "admin: anything") {
		t.Fatalf("policy of a new CA:\n%s", out)
	}
	out := c.ok("ca", "policy", "set", "--role", "user", "--domain", "example.test", "--subdomains", "--max-names", "10",
		"--on-violation", "approval")
	if !strings.Contains(out, "domain example.test subdomains") || !strings.Contains(out, "at most 10 names") ||
		!strings.Contains(out, "outside the policy: approval") {
		t.Errorf("policy set printed:\n%s", out)
	}
	if line := c.fails("ca", "policy", "set", "--role", "user", "--ip", "10.0.0.1"); !strings.Contains(line, "user.ip_ranges[0]") {
		t.Errorf("bad IP range: %s, want the field", line)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "policy.json")
	os.WriteFile(good, []byte(`{"admin":{"unrestricted":true},"user":{"domains":[{"domain":"x.test","wildcard":true}]},"on_violation":"approval"}`), 0o644)
	if out := c.ok("ca", "policy", "set", "--file", good); !strings.Contains(out, "domain x.test wildcards") {
		t.Errorf("policy from a file:\n%s", out)
	}
	typo := filepath.Join(dir, "typo.json")
	os.WriteFile(typo, []byte(`{"user":{"domian":"x.test"}}`), 0o644)
	if line := c.fails("ca", "policy", "set", "--file", typo); !strings.Contains(line, "domian") {
		t.Errorf("misspelt rule: %s, want it refused", line)
	}

	userToken, adminToken := tokenFile(t, c, "bob", "user"), tokenFile(t, c, "alice", "admin")
	url := startServe(t, c)
	as := func(token string, args ...string) []string {
		return append([]string{"--server", url, "--token-file", token}, args...)
	}
	var pending []string
	for _, name := range []string{"one", "two"} {
		c.ok(as(userToken, "definition", "create", name, "--cn", name+".elsewhere.test", "--san", name+".elsewhere.test")...)
		var p acquisitionJSON
		decodeJSON(t, "start", c.ok(as(userToken, "acquisition", "start", name, "--json")...), &p)
		id := fmt.Sprint(p.ID)
		if out := c.ok(as(userToken, "acquisition", "issue", id)...); !strings.Contains(out, "waits for an admin") {
			t.Errorf("issue outside the policy printed:\n%s", out)
		}
		pending = append(pending, id)
	}
	if line := c.fails(as(userToken, "acquisition", "approve", pending[0])...); !strings.Contains(line, "403") {
		t.Errorf("approve by the user: %s, want 403", line)
	}
	if out := c.ok(as(adminToken, "acquisition", "approve", pending[0])...); !strings.Contains(out, "registered") {
		t.Errorf("approve by an admin printed:\n%s", out)
	}
	if line := c.fails(as(adminToken, "acquisition", "reject", pending[1], "--reason", " ")...); !strings.Contains(line, "reason") {
		t.Errorf("reject without a reason: %s", line)
	}
	if out := c.ok(as(adminToken, "acquisition", "reject", pending[1], "--reason", "not ours")...); !strings.Contains(out, "rejected") {
		t.Errorf("reject printed:\n%s", out)
	}
}
