package api

import (
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/mirror"
)

// TestTargetMirrors keeps the domain, service and wire copies of a
// target in step (the web form and the CLI flags are checked by their
// own packages against the same rules, mirror.Target).
func TestTargetMirrors(t *testing.T) {
	const convert = "targetIn and targetOut in internal/api/deploy.go"
	msgs := mirror.Target().Check(
		mirror.Layer{Name: mirror.TargetStore, Fields: mirror.Of[inventory.Target](),
			Where: "inventory.Target in internal/inventory/deploy.go (and the store's target columns)"},
		mirror.Layer{Name: mirror.TargetView, Fields: mirror.Of[deploy.TargetView](),
			Where: "deploy.TargetView in internal/deploy/service_targets.go"},
		mirror.Layer{Name: mirror.TargetInput, Fields: mirror.Of[deploy.TargetInput](),
			Where: "deploy.TargetInput and applyInput in internal/deploy/service_targets.go, and " + convert},
		mirror.Layer{Name: mirror.TargetWire, Fields: mirror.Of[client.Target](),
			Where: "client.Target in client/deploy.go, and " + convert},
		mirror.Layer{Name: mirror.TargetWireInput, Fields: mirror.Of[client.TargetInput](),
			Where: "client.TargetInput and Target.Input in client/deploy.go, and " + convert},
	)
	if len(msgs) > 0 {
		t.Errorf("the copies of a target disagree:\n%s", strings.Join(msgs, "\n"))
	}
}

// TestTargetConversions fills every field of one side and checks that the
// API's conversion sets every field of the other: a field added to both
// sides but not copied fails here.
func TestTargetConversions(t *testing.T) {
	var view deploy.TargetView
	mirror.Fill(&view)
	out := targetOut(&view)
	if z := mirror.Zero(out); len(z) > 0 {
		t.Errorf("targetOut leaves client.Target fields %q zero: copy them in internal/api/deploy.go", z)
	}
	var wire client.TargetInput
	mirror.Fill(&wire)
	in, err := targetIn(&wire)
	if err != nil {
		t.Fatal(err)
	}
	if z := mirror.Zero(in); len(z) > 0 {
		t.Errorf("targetIn leaves deploy.TargetInput fields %q zero: copy them in internal/api/deploy.go", z)
	}
}
