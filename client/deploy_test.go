package client_test

import (
	"slices"
	"testing"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/mirror"
)

// TestTargetInput checks that Target.Input copies every field a target
// shows and an input takes, and leaves only the commands, the roll back
// choice (unchanged) and the secrets (kept) nil.
func TestTargetInput(t *testing.T) {
	var tg client.Target
	mirror.Fill(&tg)
	in := tg.Input()
	got := mirror.Zero(in)
	want := []string{"test_command", "reload_command", "rollback_on_failure", "ssh_password", "ssh_private_key",
		"keystore_password"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Target.Input leaves %q zero, want only %q: copy the rest in client/deploy.go", got, want)
	}
	in.SSH.Host = "changed"
	if tg.SSH.Host == "changed" {
		t.Error("Target.Input shares SSH with the target; want a copy")
	}
}
