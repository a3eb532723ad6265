package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// oneTimePassword finds the password printed once by user create or
// reset-password.
func oneTimePassword(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`one-time password .*: (\S+)\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no one-time password in output:\n%s", out)
	}
	return m[1]
}

type userJSON struct {
	Username           string `json:"username"`
	Role               string `json:"role"`
	Disabled           bool   `json:"disabled"`
	MustChangePassword bool   `json:"must_change_password"`
}

func (c *ck) users() map[string]userJSON {
	c.t.Helper()
	var v struct{ Users []userJSON }
	if err := json.Unmarshal([]byte(c.ok("user", "list", "--json")), &v); err != nil {
		c.t.Fatal(err)
	}
	out := map[string]userJSON{}
	for _, u := range v.Users {
		out[u.Username] = u
	}
	return out
}

// assertAbsent fails when any secret appears in text, named what.
func assertAbsent(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s contains the secret %q", what, s)
		}
	}
}

func TestUsers(t *testing.T) {
	c := newCK(t)
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("correct horse battery staple\n"), 0o600)
	c.ok("user", "create", "alice", "--role", "admin", "--password-file", pwFile)
	out := c.ok("user", "create", "bob")
	generated := oneTimePassword(t, out)

	if line := c.fails("user", "create", "ALICE", "--password-file", pwFile); !strings.Contains(line, "exists") {
		t.Errorf("duplicate user: %s, want it to say the user exists", line)
	}
	weak := filepath.Join(t.TempDir(), "weak")
	os.WriteFile(weak, []byte("short\n"), 0o600)
	if line := c.fails("user", "create", "carol", "--password-file", weak); !strings.Contains(line, "weak password") {
		t.Errorf("weak password: %s, want it refused as weak", line)
	}
	c.fails("user", "create", "dave", "--role", "root")

	reset := oneTimePassword(t, c.ok("user", "reset-password", "alice"))
	c.ok("user", "role", "bob", "admin")
	c.ok("user", "disable", "bob")
	c.fails("user", "disable", "nobody")
	c.fails("user", "role", "bob", "superuser")

	got := c.users()
	if len(got) != 2 {
		t.Fatalf("user list has %d users, want 2: %+v", len(got), got)
	}
	if a := got["alice"]; a.Role != "admin" || !a.MustChangePassword || a.Disabled {
		t.Errorf("alice = %+v, want admin, must change password, enabled", a)
	}
	if b := got["bob"]; b.Role != "admin" || !b.Disabled {
		t.Errorf("bob = %+v, want admin, disabled", b)
	}
	c.ok("user", "enable", "bob")
	if !strings.Contains(c.ok("user", "list"), "bob") {
		t.Error("user list does not show bob")
	}
	list := c.ok("user", "list", "--json")
	assertAbsent(t, "user list", list, "argon2", generated, reset)
	checkAudit(t, c, []string{"user.create", "user.create", "user.password_reset", "user.role", "user.disable", "user.enable"},
		"correct horse battery staple", generated, reset)
}

func TestTokens(t *testing.T) {
	c := newCK(t)
	pw := oneTimePassword(t, c.ok("user", "create", "erin"))
	out := c.ok("token", "create", "--user", "erin", "--name", "ci", "--expires", "30d")
	m := regexp.MustCompile(`secret .*: (ck_[A-Za-z0-9_-]{43})\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("token create printed no secret:\n%s", out)
	}
	secret := m[1]
	c.fails("token", "create", "--user", "nobody", "--name", "x")
	c.fails("token", "create", "--user", "erin", "--name", "x", "--expires", "soon")

	var v struct {
		Tokens []struct {
			ID     int64  `json:"id"`
			Prefix string `json:"prefix"`
		}
	}
	raw := c.ok("token", "list", "--user", "erin", "--json")
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Tokens) != 1 || !strings.HasPrefix(secret, v.Tokens[0].Prefix) || len(v.Tokens[0].Prefix) < 8 {
		t.Fatalf("token list = %s, want one token whose prefix starts %s", raw, secret)
	}
	text := c.ok("token", "list", "--user", "erin")
	if !strings.Contains(text, v.Tokens[0].Prefix) {
		t.Errorf("token list does not show the prefix:\n%s", text)
	}
	assertAbsent(t, "token list", raw+text, secret)

	c.ok("token", "revoke", "1")
	c.fails("token", "revoke", "1")
	c.fails("token", "revoke", "one")
	if got := c.ok("token", "list", "--user", "erin"); !strings.Contains(got, "no tokens") {
		t.Errorf("token list after revoke:\n%s", got)
	}
	checkAudit(t, c, []string{"user.create", "token.create", "token.revoke"}, pw, secret)
}

// checkAudit checks that the audit command shows the actions in order and
// that neither its output nor the raw SQLite file holds any secret.
func checkAudit(t *testing.T, c *ck, actions []string, secrets ...string) {
	t.Helper()
	var v struct {
		Events []struct{ Actor, Action, Object, Summary string }
	}
	raw := c.ok("audit", "--since", "1h", "--json")
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range v.Events {
		got = append(got, e.Action)
		if !strings.HasPrefix(e.Actor, "cli:") || e.Object == "" {
			t.Errorf("event %+v: want a cli: actor and an object", e)
		}
	}
	if strings.Join(got, " ") != strings.Join(actions, " ") {
		t.Errorf("audit actions = %v, want %v", got, actions)
	}
	text := c.ok("audit")
	if !strings.Contains(text, actions[0]) {
		t.Errorf("audit text does not show %s:\n%s", actions[0], text)
	}
	if last := c.ok("audit", "--limit", "1", "--json"); !strings.Contains(last, actions[len(actions)-1]) ||
		strings.Count(last, `"action"`) != 1 {
		t.Errorf("audit --limit 1 = %s, want only the last event", last)
	}
	c.fails("audit", "--limit", "0")
	assertAbsent(t, "audit output", raw+text, secrets...)
	db := readDatabase(t, c)
	assertAbsent(t, "the SQLite database", db, secrets...)
}

// readDatabase returns the SQLite file and its write-ahead log.
func readDatabase(t *testing.T, c *ck) string {
	t.Helper()
	var b strings.Builder
	for _, name := range []string{"certkeeper.db", "certkeeper.db-wal"} {
		data, err := os.ReadFile(filepath.Join(c.dataDir, name))
		if err != nil && name == "certkeeper.db" {
			t.Fatal(err)
		}
		b.Write(data)
	}
	if b.Len() == 0 {
		t.Fatal("database is empty")
	}
	return b.String()
}
