package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

const maxLayoutInstructions = 16 << 10

// Presets returns the built-in presets followed by the user layouts. A
// stored layout that no longer validates is left out (and logged).
func (s *Service) Presets(ctx context.Context) ([]engine.Preset, error) {
	out := engine.Builtin()
	for i := range out {
		out[i].Builtin = true
	}
	layouts, err := s.store.ListDeployLayouts(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range layouts {
		pr, err := engine.FromLayout(l)
		if err != nil {
			s.o.Log.Warn("deploy: stored layout left out", "layout", l.Name, "err", err)
			continue
		}
		out = append(out, pr)
	}
	return out, nil
}

// preset returns the built-in preset or user layout called name; an
// unknown name gives an error wrapping inventory.ErrNotFound that lists
// the known ones.
func (s *Service) preset(ctx context.Context, name string) (engine.Preset, error) {
	if pr, err := engine.FindPreset(engine.Builtin(), name); err == nil {
		pr.Builtin = true
		return pr, nil
	}
	l, err := s.store.DeployLayoutByName(ctx, name)
	if errors.Is(err, inventory.ErrNotFound) {
		all, lerr := s.Presets(ctx)
		if lerr != nil {
			return engine.Preset{}, lerr
		}
		_, ferr := engine.FindPreset(all, name)
		return engine.Preset{}, unknownPresetError{ferr}
	}
	if err != nil {
		return engine.Preset{}, err
	}
	return engine.FromLayout(*l)
}

// unknownPresetError is engine.FindPreset's error matching inventory.ErrNotFound.
type unknownPresetError struct{ err error }

func (e unknownPresetError) Error() string        { return e.err.Error() }
func (e unknownPresetError) Is(target error) bool { return target == inventory.ErrNotFound }

// PutLayout creates or replaces the user layout l.Name (never a built-in
// preset's name) after validating it.
func (s *Service) PutLayout(ctx context.Context, actor string, l inventory.DeployLayout) (engine.Preset, error) {
	l.Name = strings.TrimSpace(l.Name)
	l.TestCommand, l.ReloadCommand = strings.TrimSpace(l.TestCommand), strings.TrimSpace(l.ReloadCommand)
	if _, err := engine.FindPreset(engine.Builtin(), l.Name); err == nil {
		return engine.Preset{}, inventory.Invalid("name", "%s is a built-in preset; choose another name", l.Name)
	}
	for _, c := range []struct{ field, v string }{{"test_command", l.TestCommand}, {"reload_command", l.ReloadCommand}} {
		if err := checkLineField(c.field, c.v, maxCommandLen); err != nil {
			return engine.Preset{}, err
		}
	}
	if len(l.Instructions) > maxLayoutInstructions {
		return engine.Preset{}, inventory.Invalid("instructions", "instructions are longer than %d characters", maxLayoutInstructions)
	}
	pr, err := engine.FromLayout(l)
	if err != nil {
		field := "files"
		if strings.Contains(err.Error(), "layout name") {
			field = "name"
		}
		return engine.Preset{}, inventory.Invalid(field, "%s", strings.TrimPrefix(err.Error(), "deploy: layout "+l.Name+": "))
	}
	now := s.now()
	l.UpdatedAt = now
	action := "preset.update"
	cur, err := s.store.DeployLayoutByName(ctx, l.Name)
	write := func(tx inventory.Store) error { return tx.UpdateDeployLayout(ctx, &l) }
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		l.CreatedAt, action = now, "preset.create"
		write = func(tx inventory.Store) error { return tx.PutDeployLayout(ctx, &l) }
	case err == nil:
		l.ID, l.CreatedAt = cur.ID, cur.CreatedAt
	default:
		return engine.Preset{}, err
	}
	summary := fmt.Sprintf("%s: %d files", l.Name, len(pr.Layout.Files))
	err = s.audited(ctx, write, actor, action, func() string { return inventory.ObjectName(inventory.KindPreset, l.Name) }, summary)
	if err != nil {
		return engine.Preset{}, err
	}
	return pr, nil
}

// DeleteLayout removes the user layout name; one a target uses is
// refused (inventory.ErrConflict).
func (s *Service) DeleteLayout(ctx context.Context, actor, name string) error {
	if _, err := engine.FindPreset(engine.Builtin(), name); err == nil {
		return fmt.Errorf("deploy: %s is a built-in preset and cannot be deleted: %w", name, inventory.ErrState)
	}
	err := s.audited(ctx, func(tx inventory.Store) error { return tx.DeleteDeployLayout(ctx, name) },
		actor, "preset.delete", func() string { return inventory.ObjectName(inventory.KindPreset, name) }, name)
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		return fmt.Errorf("deploy: no user layout %q: %w", name, inventory.ErrNotFound)
	case errors.Is(err, inventory.ErrConflict):
		return fmt.Errorf("deploy: layout %s is used by a target; change the target first: %w", name, err)
	}
	return err
}
