package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAllows(t *testing.T) {
	st := &State{AllowedPresets: []string{"nginx"}, AllowedCommands: []string{"systemctl reload foo", "  /usr/local/bin/check  "}}
	tests := []struct {
		cmd  string
		want bool
	}{
		{"", true},
		{"nginx -t", true},
		{"nginx -s reload", true},
		{" nginx -s reload ", true},
		{"systemctl reload foo", true},
		{"/usr/local/bin/check", true},
		{"apachectl graceful", false},             // a preset not allowed
		{"systemctl reload foo; rm -rf /", false}, // exact match only
		{"systemctl reload foobar", false},
		{"nginx  -t", false},
		{"NGINX -t", false},
	}
	for _, tt := range tests {
		if got := st.Allows(tt.cmd); got != tt.want {
			t.Errorf("Allows(%q) = %v, want %v", tt.cmd, got, tt.want)
		}
	}
	if (&State{}).Allows("true") {
		t.Error("an empty configuration allows a command")
	}
}

func TestReadStateRefusesBadAllowLists(t *testing.T) {
	for name, body := range map[string]string{
		"misspelt field": `{"server":"https://m:8444","name":"web1","allowed_command":["true"]}`,
		"unknown preset": `{"server":"https://m:8444","name":"web1","allowed_presets":["nginxx"]}`,
		"blank command":  `{"server":"https://m:8444","name":"web1","allowed_commands":[" "]}`,
		"relative dir":   `{"server":"https://m:8444","name":"web1","allowed_directories":["etc/nginx"]}`,
	} {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, StateFile), []byte(body), 0o644)
		if _, err := readState(dir); err == nil || !strings.Contains(err.Error(), StateFile) {
			t.Errorf("%s: %v, want an error naming %s", name, err, StateFile)
		}
	}
}

// TestJobWithACommandNotAllowedIsRefused: a job whose reload command the
// agent's configuration does not allow is reported failed with that
// reason, and nothing ran: no file written, no command run.
func TestJobWithACommandNotAllowedIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	dir, a := f.enroll(t, "web1")
	marker := filepath.Join(t.TempDir(), "ran")
	job := testJob(t, 7, "touch "+marker)
	f.jobs.set(a.ID, job)
	if err := f.runOnce(dir); err == nil {
		t.Error("round with a refused job succeeded")
	}
	o := f.jobs.outcome(7)
	if o == nil || o.Installed || !strings.Contains(o.Error, `reload command "touch `+marker+`" is not allowed by the agent's configuration`) {
		t.Fatalf("outcome %+v, want failed: command not allowed", o)
	}
	for _, p := range []string{marker, job.Job.Plan.Directory} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists (%v): something ran", p, err)
		}
	}
	// Allowed by the configuration, the same job runs.
	st, err := readState(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.AllowedCommands = []string{"touch " + marker}
	if err := writeState(dir, st); err != nil {
		t.Fatal(err)
	}
	f.jobs.set(a.ID, testJob(t, 8, "touch "+marker))
	if err := f.runOnce(dir); err != nil {
		t.Fatalf("allowed job: %v", err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the allowed reload command did not run: %v", err)
	}
}

func TestEnrollWritesTheAllowLists(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tok := f.token(t, "web1", 0)
	bad := EnrollConfig{Server: f.url, Token: tok.Token, CAPin: tok.CAPin, Dir: t.TempDir(), AllowPresets: []string{"ngnix"}}
	if _, err := Enroll(t.Context(), bad); err == nil || !strings.Contains(err.Error(), "ngnix") {
		t.Fatalf("enroll with an unknown preset: %v, want refused", err)
	}
	dir := filepath.Join(t.TempDir(), "agent")
	c := bad
	c.Dir, c.AllowPresets, c.AllowCommands = dir, []string{"nginx"}, []string{"systemctl reload foo"}
	if _, err := Enroll(t.Context(), c); err != nil {
		t.Fatalf("enroll (the token was not used by the refused attempt): %v", err)
	}
	st, err := readState(dir)
	if err != nil || !st.Allows("nginx -s reload") || !st.Allows("systemctl reload foo") || st.Allows("apachectl graceful") {
		t.Errorf("state %+v, %v: want the allow lists given", st, err)
	}
}

// TestAllowsDirectory: with allowed_directories set, a job may write only
// into one of them or below, judged after cleaning the path and resolving
// the links of its existing part; empty allows any directory.
func TestAllowsDirectory(t *testing.T) {
	base := t.TempDir()
	tls := filepath.Join(base, "etc", "nginx", "tls")
	outside := filepath.Join(base, "root")
	for _, d := range []string{tls, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(tls, "escape")); err != nil {
		t.Fatal(err)
	}
	st := &State{AllowedDirectories: []string{filepath.Join(base, "etc", "nginx")}}
	for dir, want := range map[string]bool{
		tls:                                  true,
		filepath.Join(tls, "new", "deeper"):  true, // not made yet
		filepath.Join(base, "etc", "nginx"):  true,
		filepath.Join(base, "etc", "nginxx"): false, // a prefix, not a parent
		filepath.Join(tls, "..", "..", ".."): false,
		filepath.Join(tls, "escape"):         false, // a link that leads out
		filepath.Join(tls, "escape", "x"):    false,
		outside:                              false,
		"etc/nginx/tls":                      false, // relative
		"":                                   false,
	} {
		if got := st.AllowsDirectory(dir); got != want {
			t.Errorf("AllowsDirectory(%q) = %v, want %v", dir, got, want)
		}
	}
	if !(&State{}).AllowsDirectory(outside) {
		t.Error("an empty allowed_directories refuses a directory")
	}
}

// TestJobInADirectoryNotAllowedIsRefused: a job for a directory outside
// allowed_directories is reported failed and writes nothing.
func TestJobInADirectoryNotAllowedIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	dir, a := f.enroll(t, "web1")
	st, err := readState(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.AllowedCommands = []string{"true"}
	st.AllowedDirectories = []string{filepath.Join(t.TempDir(), "allowed")}
	if err := writeState(dir, st); err != nil {
		t.Fatal(err)
	}
	job := testJob(t, 9, "true")
	f.jobs.set(a.ID, job)
	if err := f.runOnce(dir); err == nil {
		t.Error("round with a refused job succeeded")
	}
	o := f.jobs.outcome(9)
	if o == nil || o.Installed || !strings.Contains(o.Error, "is not allowed by the agent's configuration (allowed_directories") {
		t.Fatalf("outcome %+v, want failed: directory not allowed", o)
	}
	if _, err := os.Stat(job.Job.Plan.Directory); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (%v): something was written", job.Job.Plan.Directory, err)
	}
}
