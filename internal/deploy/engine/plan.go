package engine

import (
	"errors"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/kit"
)

// BuildPlan renders pr's files from m for target t: Directory, Owner,
// the commands, their timeout and the label come from t (its commands
// are the effective ones; an empty one means none). m.Password is the
// key-store password, required by pkcs12 and jks files.
func BuildPlan(pr Preset, t *inventory.Target, m kit.Material) (Plan, error) {
	if t == nil {
		return Plan{}, errors.New("deploy: no target")
	}
	outputs, err := kit.Render(pr.Layout, m)
	if err != nil {
		return Plan{}, fmt.Errorf("deploy: target %s: %w", t.Name, err)
	}
	p := Plan{Directory: t.Directory, Owner: t.Owner, TestCommand: t.TestCommand,
		ReloadCommand: t.ReloadCommand, Timeout: t.ReloadTimeout, Label: t.Name}
	for _, o := range outputs {
		p.Files = append(p.Files, PlanFile{Path: o.Path, Data: o.Data, Mode: o.Mode, Secret: holdsKey(o.Content)})
	}
	if err := p.validate(); err != nil {
		return Plan{}, fmt.Errorf("deploy: target %s: %w", t.Name, err)
	}
	return p, nil
}

// holdsKey reports whether a rendered content carries the private key.
func holdsKey(c kit.Content) bool {
	switch c {
	case kit.ContentKey, kit.ContentCombined, kit.ContentPKCS12, kit.ContentJKS:
		return true
	}
	return false
}
