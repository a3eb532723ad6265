package web

import (
	"regexp"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/mirror"
)

// TestTargetFormMirrors keeps the target form's fields in step with
// client.TargetInput, by the rules of mirror.Target: a field added to
// targets and forgotten on the form fails here.
func TestTargetFormMirrors(t *testing.T) {
	page, err := templateFS.ReadFile("templates/pages/target_form.html")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`\bname="([^"{}]+)"`).FindAllStringSubmatch(string(page), -1) {
		names = append(names, m[1])
	}
	msgs := mirror.Target().Check(
		mirror.Layer{Name: mirror.TargetWireInput, Fields: mirror.Of[client.TargetInput](),
			Where: "client.TargetInput in client/deploy.go"},
		mirror.Layer{Name: mirror.TargetForm, Fields: names,
			Where: "templates/pages/target_form.html, and targetTextFields (or readTargetForm and input) in internal/web/targets.go"},
	)
	if len(msgs) > 0 {
		t.Errorf("the target form and client.TargetInput disagree:\n%s", strings.Join(msgs, "\n"))
	}
}
