package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/certkeeper/certkeeper/client"
)

// TestTargetAddEdit adds a target with every flag that copies a field
// and checks that edit changes only the flags it is given.
func TestTargetAddEdit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		env := Env{Stdin: &bytes.Buffer{}, Stdout: &out, Stderr: &errOut,
			Getenv: func(k string) string {
				if k == "CERTKEEPER_DATA_DIR" {
					return dir
				}
				return ""
			}}
		if err := Execute(context.Background(), args, env); err != nil {
			t.Fatalf("certkeeper %q: %v\nstderr: %s", args, err, errOut.String())
		}
		return out.String()
	}
	show := func() client.Target {
		t.Helper()
		var tg client.Target
		if err := json.Unmarshal([]byte(run("target", "show", "web", "--json")), &tg); err != nil {
			t.Fatal(err)
		}
		return tg
	}
	run("target", "add", "--name", "web", "--preset", "nginx", "--method", "directory", "--dir", "/etc/nginx/tls",
		"--owner", "www", "--test-command", "true", "--reload-command", "", "--timeout", "90s",
		"--check", "example.org:8443", "--sni", "www.example.org", "--admin-email", "ops@example.org",
		"--notes", "front", "--no-rollback")
	want := client.Target{Name: "web", Preset: "nginx", Method: "directory", Directory: "/etc/nginx/tls", Owner: "www",
		TestCommand: "true", ReloadTimeoutSeconds: 90,
		Check:      client.CheckSpec{Host: "example.org", Port: 8443, SNI: "www.example.org"},
		AdminEmail: "ops@example.org", Notes: "front"}
	got := show()
	if got := settable(got); got != settable(want) {
		t.Errorf("after add: %+v, want %+v", got, settable(want))
	}
	run("target", "edit", "web", "--dir", "/srv/tls", "--notes", "moved", "--no-rollback=false")
	want.Directory, want.Notes, want.RollbackOnFailure = "/srv/tls", "moved", true
	if got := settable(show()); got != settable(want) {
		t.Errorf("after edit: %+v, want %+v", got, settable(want))
	}
}

// settable is the part of t that add and edit set.
func settable(t client.Target) client.Target {
	return client.Target{Name: t.Name, Preset: t.Preset, Method: t.Method, Directory: t.Directory, Owner: t.Owner,
		TestCommand: t.TestCommand, ReloadCommand: t.ReloadCommand, ReloadTimeoutSeconds: t.ReloadTimeoutSeconds,
		Check: t.Check, AdminEmail: t.AdminEmail, RollbackOnFailure: t.RollbackOnFailure, Notes: t.Notes}
}
