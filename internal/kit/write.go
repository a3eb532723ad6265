package kit

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/certkeeper/certkeeper/internal/atomicfile"
)

// WriteOptions say how Write may treat what the kit directory holds. The
// zero value writes only into a missing or empty directory.
type WriteOptions struct {
	// Force writes into a directory that holds files, replacing the kit's
	// files of the same names; each replaced file is first copied into a
	// dated backup folder inside the kit directory.
	Force bool
	// Add writes the parts into an existing kit directory (clients added
	// to a kit): a part's directory must not exist yet, unless Force.
	Add bool
	// Now names the backup folder; zero means time.Now.
	Now time.Time
}

// Written says what Write did.
type Written struct {
	Paths []string
	// BackupDir holds the files that were replaced, under their paths
	// relative to the kit directory; "" when nothing was replaced.
	BackupDir string
}

// Write puts the kit's files under dir: dir/server/... and
// dir/clients/NAME/..., each file written atomically with its layout's
// mode. A missing or empty dir is filled through a temporary sibling that
// is renamed into place, so dir never holds half a kit; a dir that holds
// anything is refused unless o.Force (or o.Add, see WriteOptions), and
// then written file by file, with a backup of every file replaced. The
// kit directory itself is created with mode 0700: it holds private keys
// of several machines.
func Write(dir string, k *Kit, o WriteOptions) (*Written, error) {
	if o.Add {
		if err := checkAdd(dir, k.Parts, o.Force); err != nil {
			return nil, err
		}
		return writeParts(dir, k, o)
	}
	empty, err := isEmptyDir(dir)
	if err != nil {
		return nil, err
	}
	if !empty {
		if !o.Force {
			return nil, notEmpty(dir)
		}
		return writeParts(dir, k, o)
	}
	return writeFresh(dir, k)
}

// CheckDir reports whether Write(dir, k, WriteOptions{Force: force}) may
// write into dir, so that a caller can refuse before it issues anything.
func CheckDir(dir string, force bool) error {
	empty, err := isEmptyDir(dir)
	if err == nil && !empty && !force {
		err = notEmpty(dir)
	}
	return err
}

// CheckAdd reports whether clients may be added to the kit in dir: dir is
// a directory and, unless force, holds no directory of those clients yet.
func CheckAdd(dir string, clients []string, force bool) error {
	parts := make([]Part, len(clients))
	for i, c := range clients {
		parts[i] = Part{Dir: "clients/" + c, Role: "client", Name: c}
	}
	return checkAdd(dir, parts, force)
}

func checkAdd(dir string, parts []Part, force bool) error {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("kit: %s is not a kit directory: create the kit first", dir)
	}
	if force {
		return nil
	}
	for _, p := range parts {
		pd := filepath.Join(dir, filepath.FromSlash(p.Dir))
		if empty, err := isEmptyDir(pd); err != nil || !empty {
			return fmt.Errorf("kit: %s already exists; use --force to replace its files (they are backed up first)", pd)
		}
	}
	return nil
}

func notEmpty(dir string) error {
	return fmt.Errorf("kit: %s exists and is not empty; use --force to write into it", dir)
}

// isEmptyDir reports whether dir is missing or an empty directory.
func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("kit: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.IsDir() {
		return false, fmt.Errorf("kit: %s exists and is not a directory", dir)
	}
	_, err = f.Readdirnames(1)
	return errors.Is(err, io.EOF), nil
}

func writeFresh(dir string, k *Kit) (*Written, error) {
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".kit-*")
	if err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	if _, err := writeParts(tmp, k, WriteOptions{}); err != nil {
		return nil, err
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("kit: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	return &Written{Paths: k.paths(dir)}, nil
}

func writeParts(dir string, k *Kit, o WriteOptions) (*Written, error) {
	b := backup{dir: dir, now: o.Now}
	for _, p := range k.Parts {
		for _, f := range p.Files {
			rel := filepath.Join(filepath.FromSlash(p.Dir), filepath.FromSlash(f.Path))
			path := filepath.Join(dir, rel)
			if err := b.save(rel); err != nil {
				return nil, err
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, fmt.Errorf("kit: %w", err)
			}
			if err := atomicfile.Write(path, f.Data, f.Mode); err != nil {
				return nil, fmt.Errorf("kit: %s: %w", path, err)
			}
		}
	}
	return &Written{Paths: k.paths(dir), BackupDir: b.made}, nil
}

// backup copies files about to be replaced into one dated folder,
// dir/.backup-YYYYMMDD-HHMMSS, made (mode 0700) at the first copy.
type backup struct {
	dir  string
	now  time.Time
	made string
}

// save copies dir/rel into the backup folder when it exists, keeping its
// mode; a missing file needs no backup.
func (b *backup) save(rel string) error {
	src := filepath.Join(b.dir, rel)
	fi, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kit: backup: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("kit: %s is not a regular file; not replacing it", src)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("kit: backup: %w", err)
	}
	if b.made == "" {
		now := b.now
		if now.IsZero() {
			now = time.Now()
		}
		name := filepath.Join(b.dir, ".backup-"+now.UTC().Format("20060102-150405"))
		if err := os.Mkdir(name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("kit: backup: %w", err)
		}
		b.made = name
	}
	dst := filepath.Join(b.made, rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("kit: backup: %w", err)
	}
	if err := atomicfile.Write(dst, data, fi.Mode().Perm()); err != nil {
		return fmt.Errorf("kit: backup: %w", err)
	}
	return nil
}
