package kit

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/certkeeper/certkeeper/internal/atomicfile"
)

// Write puts the kit's files under dir: dir/server/... and
// dir/clients/NAME/..., each file written atomically with its layout's
// mode. A missing or empty dir is filled through a temporary sibling that
// is renamed into place, so dir never holds half a kit; a dir that holds
// anything is refused unless force is set, and then written file by file.
// The kit directory itself is created with mode 0700: it holds private
// keys of several machines. Write returns the paths written.
func Write(dir string, k *Kit, force bool) ([]string, error) {
	empty, err := isEmptyDir(dir)
	if err != nil {
		return nil, err
	}
	if !empty {
		if !force {
			return nil, notEmpty(dir)
		}
		return writeParts(dir, k)
	}
	return writeFresh(dir, k)
}

// CheckDir reports whether Write(dir, k, force) may write into dir, so
// that a caller can refuse before it issues anything.
func CheckDir(dir string, force bool) error {
	empty, err := isEmptyDir(dir)
	if err == nil && !empty && !force {
		err = notEmpty(dir)
	}
	return err
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

func writeFresh(dir string, k *Kit) ([]string, error) {
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
	if _, err := writeParts(tmp, k); err != nil {
		return nil, err
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("kit: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("kit: %w", err)
	}
	return k.paths(dir), nil
}

func writeParts(dir string, k *Kit) ([]string, error) {
	for _, p := range k.Parts {
		for _, f := range p.Files {
			path := filepath.Join(dir, filepath.FromSlash(p.Dir), filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, fmt.Errorf("kit: %w", err)
			}
			if err := atomicfile.Write(path, f.Data, f.Mode); err != nil {
				return nil, fmt.Errorf("kit: %s: %w", path, err)
			}
		}
	}
	return k.paths(dir), nil
}
