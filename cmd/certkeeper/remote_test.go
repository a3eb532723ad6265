package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// startServe runs "certkeeper serve" over c's data directory and returns
// its HTTPS base URL.
func startServe(t *testing.T, c *ck) string {
	t.Helper()
	return serve(t, c).URL
}

// tokenFile makes a user with role and an API token for them, and
// returns the file holding the token.
func tokenFile(t *testing.T, c *ck, user, role string) string {
	t.Helper()
	c.ok("user", "create", user, "--role", role)
	out := c.ok("token", "create", "--user", user, "--name", "cli")
	m := regexp.MustCompile(`(ck_[A-Za-z0-9_-]{43})`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("token create printed no secret:\n%s", out)
	}
	f := filepath.Join(t.TempDir(), user+".token")
	if err := os.WriteFile(f, []byte(m[1]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRemoteLifecycle(t *testing.T) {
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	adminToken := tokenFile(t, c, "alice", "admin")
	userToken := tokenFile(t, c, "bob", "user")
	url := startServe(t, c)
	as := func(token string, args ...string) []string {
		return append([]string{"--server", url, "--token-file", token}, args...)
	}
	admin := func(args ...string) string { t.Helper(); return c.ok(as(adminToken, args...)...) }

	admin("definition", "create", "api", "--cn", "api.example.test", "--san", "api.example.test")
	if text := admin("definition", "list"); !strings.Contains(text, "api.example.test") {
		t.Errorf("definition list over the API:\n%s", text)
	}
	var p acquisitionJSON
	decodeJSON(t, "start", admin("acquisition", "start", "api", "--json"), &p)
	id := fmt.Sprint(p.ID)
	var v validationJSON
	decodeJSON(t, "issue", admin("acquisition", "issue", id, "--json"), &v)
	admin("acquisition", "switch", id)
	var got acquisitionJSON
	decodeJSON(t, "show", admin("acquisition", "show", id, "--json"), &got)
	if got.State != "completed" || got.Certificate == nil || got.Certificate.ID != v.Certificate.ID {
		t.Fatalf("show over the API = %+v, want completed with certificate %d", got, v.Certificate.ID)
	}
	for _, s := range got.Steps {
		if s.Actor != "user:alice" {
			t.Errorf("step %s by %s, want user:alice", s.Action, s.Actor)
		}
	}
	if text := admin("key", "list"); !strings.Contains(text, fmt.Sprint(p.KeyID)) {
		t.Errorf("key list over the API lacks key %d:\n%s", p.KeyID, text)
	}
	if text := admin("certificate", "show", fmt.Sprint(v.Certificate.ID)); !strings.Contains(text, "api.example.test") {
		t.Errorf("certificate show over the API:\n%s", text)
	}

	// A user may do the lifecycle but not export keys; no token, no call.
	if line := c.fails(as(userToken, "key", "export", fmt.Sprint(p.KeyID), "--format", "pem", "--out", filepath.Join(t.TempDir(), "k.pem"))...); !strings.Contains(line, "403") || !strings.Contains(line, "admin") {
		t.Errorf("key export as a user: %s, want a 403 naming the admin role", line)
	}
	if text := c.ok(as(userToken, "acquisition", "list", "--all")...); !strings.Contains(text, "completed") {
		t.Errorf("acquisition list as a user:\n%s", text)
	}
	if line := c.fails("--server", url, "key", "list"); !strings.Contains(line, "token create") {
		t.Errorf("no token: %s, want it to say how to get one", line)
	}
	bad := filepath.Join(t.TempDir(), "bad.token")
	os.WriteFile(bad, []byte("ck_notatoken\n"), 0o600)
	if line := c.fails(as(bad, "key", "list")...); !strings.Contains(line, "401") {
		t.Errorf("bad token: %s, want a 401", line)
	}

	audit := c.ok("audit", "--json")
	var events struct {
		Events, Items []struct{ Actor, Action string }
	}
	decodeJSON(t, "audit", audit, &events)
	events.Events = append(events.Events, events.Items...)
	actors := map[string]string{}
	for _, e := range events.Events {
		actors[e.Action] = e.Actor
	}
	for _, action := range []string{"definition.create", "acquisition.start", "acquisition.issue", "acquisition.switch"} {
		if actors[action] != "user:alice" {
			t.Errorf("audit: %s by %q, want user:alice (all: %v)", action, actors[action], actors)
		}
	}
	if slices.ContainsFunc(events.Events, func(e struct{ Actor, Action string }) bool { return e.Action == "key.export" }) {
		t.Error("the refused key export was audited")
	}
}

// TestRemoteRefusesLocalCommands: with --server, commands that only work
// on the local data directory refuse rather than quietly read local data.
func TestRemoteRefusesLocalCommands(t *testing.T) {
	c := newCK(t)
	for _, args := range [][]string{{"timeline"}, {"rekey"}, {"ca", "list"}, {"serve"}} {
		args = append([]string{"--server", "http://127.0.0.1:9", "--token", "ck_unused"}, args...)
		if line := c.fails(args...); !strings.Contains(line, "works on the local data directory only") {
			t.Errorf("%v: %s, want a refusal naming the local data directory", args, line)
		}
	}
	if _, err := os.Stat(c.dataDir); err == nil {
		t.Errorf("a refused remote command created the data directory %s", c.dataDir)
	}
}
