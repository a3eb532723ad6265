package cli

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/mirror"
)

// TestTargetFlagMirrors keeps the flags of target add and target edit in
// step with client.TargetInput, by the rules of mirror.Target: a field
// added to targets and forgotten on the command line fails here.
func TestTargetFlagMirrors(t *testing.T) {
	a := newApp(Env{})
	msgs := mirror.Target().Check(
		mirror.Layer{Name: mirror.TargetWireInput, Fields: mirror.Of[client.TargetInput](),
			Where: "client.TargetInput in client/deploy.go"},
		mirror.Layer{Name: mirror.TargetAddFlags, Fields: flagNames(a.targetAddCommand().LocalFlags()),
			Where: "targetFlags and applyTargetFlags in internal/cli/target.go"},
		mirror.Layer{Name: mirror.TargetEditFlags, Fields: flagNames(a.targetEditCommand().LocalFlags()),
			Where: "targetFlags, the edit command and applyTargetFlags in internal/cli/target.go"},
	)
	if len(msgs) > 0 {
		t.Errorf("the target flags and client.TargetInput disagree:\n%s", strings.Join(msgs, "\n"))
	}
}

// flagNames lists the names of fs's flags.
func flagNames(fs *pflag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return names
}
