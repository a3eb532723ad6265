package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// backupName matches the name of a backup folder: the install's UTC time,
// then "-N" when several installs shared that second.
var backupName = regexp.MustCompile(`^([0-9]{8}T[0-9]{6}Z)(?:-([1-9][0-9]{0,5}))?$`)

// maxBackupSuffix bounds the "-N" tried for one second.
const maxBackupSuffix = 1000

// backup copies the files the install replaces to a new backup folder,
// writes its manifest last, prunes old folders and returns the folder
// ("" when the install replaces nothing).
func (in *install) backup(ctx context.Context, now time.Time) (string, error) {
	if len(in.old) == 0 {
		return "", nil
	}
	in.m.Time = now.UTC().Truncate(time.Second)
	root := path.Join(in.p.Directory, backupRoot)
	dir, err := newBackupFolder(ctx, in.h, root, in.m.Time.Format(backupTimeFormat))
	if err != nil {
		return "", err
	}
	for _, rel := range in.m.replaced() {
		f := in.old[rel]
		if err := in.h.WriteFile(ctx, path.Join(dir, rel), f.data, f.mode, ""); err != nil {
			return "", err
		}
	}
	data, err := in.m.marshal()
	if err == nil {
		err = in.h.WriteFile(ctx, path.Join(dir, manifestName), data, 0o600, "")
	}
	if err != nil {
		return "", err
	}
	pruneBackups(ctx, in.h, root, path.Base(dir))
	return dir, nil
}

// newBackupFolder picks (and, when h can, creates) root/stamp or
// root/stamp-N, the first that does not exist yet.
func newBackupFolder(ctx context.Context, h Host, root, stamp string) (string, error) {
	fh, canMkdir := h.(FolderHost)
	if canMkdir {
		if err := fh.MkdirAll(ctx, root); err != nil {
			return "", err
		}
	}
	for n := 1; n <= maxBackupSuffix; n++ {
		dir := path.Join(root, stamp)
		if n > 1 {
			dir += "-" + strconv.Itoa(n)
		}
		free, err := claimFolder(ctx, h, fh, dir)
		if err != nil || free {
			return dir, err
		}
	}
	return "", fmt.Errorf("%s: more than %d backups for %s", root, maxBackupSuffix, stamp)
}

// claimFolder creates dir (fh set) or checks it holds no manifest.
func claimFolder(ctx context.Context, h Host, fh FolderHost, dir string) (bool, error) {
	var err error
	if fh != nil {
		err = fh.Mkdir(ctx, dir)
		if err == nil {
			return true, nil
		}
	} else {
		_, _, err = h.ReadFile(ctx, path.Join(dir, manifestName))
		if errors.Is(err, fs.ErrNotExist) {
			return true, nil
		}
		if err == nil {
			return false, nil
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	return false, err
}

// pruneBackups deletes all but the newest keepBackups backup folders in
// root, never keep. It is best effort: a folder that cannot be listed or
// deleted stays, and the install goes on.
func pruneBackups(ctx context.Context, h Host, root, keep string) {
	fh, ok := h.(FolderHost)
	if !ok {
		return
	}
	names, err := fh.ReadDir(ctx, root)
	if err != nil {
		return
	}
	names = slices.DeleteFunc(names, func(n string) bool { return !backupName.MatchString(n) })
	slices.SortFunc(names, compareBackups)
	for _, n := range names[:max(len(names)-keepBackups, 0)] {
		if n != keep {
			_ = fh.RemoveAll(ctx, path.Join(root, n)) // best effort, see above
		}
	}
}

// compareBackups orders backup folder names oldest first.
func compareBackups(a, b string) int {
	ma, mb := backupName.FindStringSubmatch(a), backupName.FindStringSubmatch(b)
	if c := strings.Compare(ma[1], mb[1]); c != 0 {
		return c
	}
	return cmp.Compare(suffix(ma[2]), suffix(mb[2]))
}

func suffix(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 1
	}
	return n
}

// Rollback restores the install of p recorded in the backup folder
// backup (an InstallReport's Backup, or just its name): the files the
// install replaced get their previous content and mode back, those it
// created are removed, as the folder's manifest says. Then the test and
// reload commands run (no reload when the test fails). It returns what
// the commands printed.
func Rollback(ctx context.Context, h Host, p Plan, backup string) (string, error) {
	dir, err := backupFolder(p.Directory, backup)
	if err != nil {
		return "", err
	}
	data, _, err := h.ReadFile(ctx, path.Join(dir, manifestName))
	if err != nil {
		return "", fmt.Errorf("deploy: %s: read backup manifest: %w", h, err)
	}
	m, err := parseManifest(data)
	if err != nil {
		return "", fmt.Errorf("deploy: %s: backup %s: %w", h, path.Base(dir), err)
	}
	source := func(ctx context.Context, rel string) ([]byte, fs.FileMode, error) {
		return h.ReadFile(ctx, path.Join(dir, rel))
	}
	if err := restore(ctx, h, path.Clean(p.Directory), p.Owner, m, source); err != nil {
		return "", fmt.Errorf("deploy: %s: roll back: %w", h, err)
	}
	return rollbackCommands(ctx, h, p)
}

// backupFolder resolves backup to a folder of dir's backup root, refusing
// anything else.
func backupFolder(dir, backup string) (string, error) {
	if !path.IsAbs(dir) {
		return "", fmt.Errorf("deploy: directory %q must be an absolute path", dir)
	}
	root := path.Join(dir, backupRoot)
	full := backup
	if !path.IsAbs(backup) {
		full = path.Join(root, backup)
	}
	full = path.Clean(full)
	if path.Dir(full) != root || !backupName.MatchString(path.Base(full)) {
		return "", fmt.Errorf("deploy: %q is not a backup folder of %s", backup, dir)
	}
	return full, nil
}

// rollbackCommands runs p's test, then reload command after a roll back.
func rollbackCommands(ctx context.Context, h Host, p Plan) (string, error) {
	timeout := CommandTimeout(p.Timeout)
	var out strings.Builder
	if p.TestCommand != "" {
		o, err := runIn(ctx, h, p.Directory, p.TestCommand, timeout)
		out.WriteString(o)
		if err != nil {
			return out.String(), commandError("test", err, o)
		}
	}
	if p.ReloadCommand != "" {
		o, err := runIn(ctx, h, p.Directory, p.ReloadCommand, timeout)
		out.WriteString(o)
		if err != nil {
			return out.String(), commandError("reload", err, o)
		}
	}
	return out.String(), nil
}
