package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"
)

// Apply installs p on h:
//
//  1. every file of p that exists is copied to a new backup folder,
//     <Directory>/.certkeeper-backup/<UTC time>[-N]/, with its mode, and
//     manifest.json records what the install writes and creates (only
//     the newest 10 backup folders are kept);
//  2. every file is replaced atomically with its mode (a zero mode is
//     written as 0600) and p.Owner;
//  3. p.TestCommand runs; when it fails, the files are restored and the
//     server is not reloaded;
//  4. p.ReloadCommand runs; when it fails, the files are restored and
//     the server reloaded again.
//
// Commands run in p.Directory on the local host, each within p.Timeout
// (zero means DefaultCommandTimeout). The report is returned with the
// error when the install got as far as writing: RolledBack says whether
// the previous files are back.
func Apply(ctx context.Context, h Host, p Plan, now time.Time) (*InstallReport, error) {
	in, rep, err := stage(ctx, h, p, now)
	if err != nil {
		return rep, err
	}
	return rep, in.commands(ctx, rep)
}

// ApplyGroup installs plans that are sites of one server: the same host
// and the same test and reload commands (those of plans[0] run). Every
// plan is backed up and written as Apply does, then the test and the
// reload run once for all. When either fails, every site is restored and
// each plan is then applied on its own, so that only a plan that breaks
// the server fails. A plan whose restore fails is not applied again: its
// error says both why the group failed and why the restore did. Reports
// and errors are per plan.
func ApplyGroup(ctx context.Context, h Host, plans []Plan, now time.Time) ([]*InstallReport, []error) {
	reps, errs := make([]*InstallReport, len(plans)), make([]error, len(plans))
	if len(plans) == 1 {
		reps[0], errs[0] = Apply(ctx, h, plans[0], now)
		return reps, errs
	}
	var staged []*install
	var which []int
	for i, p := range plans {
		in, rep, err := stage(ctx, h, p, now)
		if reps[i], errs[i] = rep, err; err == nil {
			staged, which = append(staged, in), append(which, i)
		}
	}
	if len(staged) == 0 {
		return reps, errs
	}
	shared := &InstallReport{}
	failed := staged[0].runCommands(ctx, shared)
	if failed == nil {
		for _, i := range which {
			reps[i].TestOutput, reps[i].ReloadOutput = shared.TestOutput, shared.ReloadOutput
		}
		return reps, errs
	}
	var restored []int
	for k, in := range staged {
		i := which[k]
		if err := restore(ctx, in.h, in.p.Directory, in.p.Owner, in.m, in.previous); err != nil {
			// Its files are neither the old nor all new ones: applying it
			// again would back up the new ones as if they were the old.
			errs[i] = fmt.Errorf("%w; roll back failed: %w", failed.cause, err)
			continue
		}
		restored = append(restored, i)
	}
	for _, i := range restored {
		reps[i], errs[i] = Apply(ctx, h, plans[i], now)
	}
	return reps, errs
}

// stage validates p, backs up the files it replaces and writes the new
// ones; a failed write restores the old ones.
func stage(ctx context.Context, h Host, p Plan, now time.Time) (*install, *InstallReport, error) {
	if err := p.validate(); err != nil {
		return nil, nil, fmt.Errorf("deploy: %w", err)
	}
	in, err := snapshot(ctx, h, p)
	if err != nil {
		return nil, nil, fmt.Errorf("deploy: %s: read current files: %w", h, err)
	}
	rep := &InstallReport{Written: in.m.Written, Created: in.m.Created}
	if rep.Backup, err = in.backup(ctx, now); err != nil {
		return nil, nil, fmt.Errorf("deploy: %s: back up: %w", h, err)
	}
	if err := in.write(ctx); err != nil {
		return nil, rep, in.fail(ctx, rep, fmt.Errorf("deploy: %s: %w", h, err), false)
	}
	return in, rep, nil
}

// install is one Apply under way: the plan, and the files it replaces.
type install struct {
	h   Host
	p   Plan
	m   *manifest
	old map[string]oldFile
}

// oldFile is a file as it was before the install.
type oldFile struct {
	data []byte
	mode fs.FileMode
}

// snapshot reads the files p replaces.
func snapshot(ctx context.Context, h Host, p Plan) (*install, error) {
	in := &install{h: h, p: p, m: &manifest{Version: 1, Label: p.Label}, old: map[string]oldFile{}}
	for _, f := range p.Files {
		in.m.Written = append(in.m.Written, f.Path)
		data, mode, err := h.ReadFile(ctx, in.abs(f.Path))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			in.m.Created = append(in.m.Created, f.Path)
		case err != nil:
			return nil, err
		default:
			in.old[f.Path] = oldFile{data: data, mode: mode}
		}
	}
	return in, nil
}

func (in *install) abs(rel string) string { return path.Join(in.p.Directory, rel) }

// write replaces every file of the plan.
func (in *install) write(ctx context.Context) error {
	for _, f := range in.p.Files {
		if err := in.h.WriteFile(ctx, in.abs(f.Path), f.Data, writeMode(f.Mode), in.p.Owner); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	return nil
}

// writeMode is m, or 0600 for zero.
func writeMode(m fs.FileMode) fs.FileMode {
	if m == 0 {
		return 0o600
	}
	return m
}

// commands runs the test then the reload command, restoring the previous
// files when one fails.
func (in *install) commands(ctx context.Context, rep *InstallReport) error {
	if err := in.runCommands(ctx, rep); err != nil {
		return in.fail(ctx, rep, err.cause, err.reload)
	}
	return nil
}

// commandFailure is a failed test or reload command; reload says the
// server was reloaded (or tried to be) and must be again after a restore.
type commandFailure struct {
	cause  error
	reload bool
}

// runCommands runs the test then the reload command, without restoring
// anything when one fails.
func (in *install) runCommands(ctx context.Context, rep *InstallReport) *commandFailure {
	timeout := CommandTimeout(in.p.Timeout)
	if in.p.TestCommand != "" {
		out, err := runIn(ctx, in.h, in.p.Directory, in.p.TestCommand, timeout)
		rep.TestOutput = out
		if err != nil {
			return &commandFailure{cause: commandError("test", err, out)}
		}
	}
	if in.p.ReloadCommand != "" {
		out, err := runIn(ctx, in.h, in.p.Directory, in.p.ReloadCommand, timeout)
		rep.ReloadOutput = out
		if err != nil {
			return &commandFailure{cause: commandError("reload", err, out), reload: true}
		}
	}
	return nil
}

// fail restores the previous files after cause and, when reload is set,
// reloads the server again. It returns the error to report.
func (in *install) fail(ctx context.Context, rep *InstallReport, cause error, reload bool) error {
	if err := restore(ctx, in.h, in.p.Directory, in.p.Owner, in.m, in.previous); err != nil {
		return fmt.Errorf("%w; roll back failed: %v", cause, err)
	}
	rep.RolledBack = true
	if !reload {
		return cause
	}
	out, err := runIn(ctx, in.h, in.p.Directory, in.p.ReloadCommand, CommandTimeout(in.p.Timeout))
	rep.ReloadOutput += "\n[after roll back]\n" + out
	if err != nil {
		return fmt.Errorf("%w; reload after roll back failed: %v", cause, err)
	}
	return cause
}

func (in *install) previous(_ context.Context, rel string) ([]byte, fs.FileMode, error) {
	f, ok := in.old[rel]
	if !ok {
		return nil, 0, fmt.Errorf("%s: no previous content", rel)
	}
	return f.data, f.mode, nil
}

// commandError says which command failed, how, and its last output line.
func commandError(which string, err error, output string) error {
	msg := fmt.Sprintf("deploy: %s command failed (%v)", which, err)
	if l := LastLine(output); l != "" {
		msg += ": " + l
	}
	return errors.New(OneLine(msg))
}

// restore undoes an install recorded in m under dir: the replaced files
// get their previous content (from source) and mode back, owned by owner
// as the install made them, and the created ones are removed.
func restore(ctx context.Context, h Host, dir, owner string, m *manifest,
	source func(context.Context, string) ([]byte, fs.FileMode, error)) error {
	var errs []string
	for _, rel := range m.replaced() {
		data, mode, err := source(ctx, rel)
		if err == nil {
			err = h.WriteFile(ctx, path.Join(dir, rel), data, mode, owner)
		}
		if err != nil {
			errs = append(errs, fmt.Sprintf("restore %s: %v", rel, err))
		}
	}
	for _, rel := range m.Created {
		if err := h.Remove(ctx, path.Join(dir, rel)); err != nil {
			errs = append(errs, fmt.Sprintf("remove %s: %v", rel, err))
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// validate checks a plan before anything is touched.
func (p Plan) validate() error {
	switch {
	case !path.IsAbs(p.Directory) || strings.ContainsAny(p.Directory, "\\\x00"):
		return fmt.Errorf("directory %q must be an absolute path", p.Directory)
	case len(p.Files) == 0:
		return errors.New("the plan has no files")
	case len(p.Files) > maxManifestPaths/2:
		return fmt.Errorf("the plan has %d files, more than %d", len(p.Files), maxManifestPaths/2)
	case p.Timeout < 0:
		return fmt.Errorf("negative timeout %s", p.Timeout)
	}
	seen := map[string]bool{}
	for _, f := range p.Files {
		if err := checkRelPath(f.Path); err != nil {
			return err
		}
		if f.Mode&^fs.ModePerm != 0 {
			return fmt.Errorf("file %q: mode %#o is not a permission mode", f.Path, uint32(f.Mode))
		}
		if seen[f.Path] {
			return fmt.Errorf("file %q appears twice", f.Path)
		}
		seen[f.Path] = true
	}
	return nil
}

// OneLine folds the lines and runs of spaces of s into single spaces:
// the form of every error and output line the deploy packages record.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
