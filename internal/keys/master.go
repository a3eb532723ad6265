package keys

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/certkeeper/certkeeper/internal/atomicfile"
)

// PendingSuffix names the successor of a master key file while a re-key
// is under way. When it exists it holds the newest master key.
const PendingSuffix = ".new"

// LoadSealer returns a Sealer for the master key file at path, creating
// the file (mode 0600, 32 random bytes in base64) when it does not exist.
// When a pending successor (path + PendingSuffix) exists, left by an
// interrupted re-key, the successor seals and both open.
//
// If env is not empty it is the base64 master key itself and no file is
// read or created.
func LoadSealer(path, env string) (*Sealer, error) {
	if env != "" {
		k, err := decodeMaster(env)
		if err != nil {
			return nil, fmt.Errorf("keys: CERTKEEPER_MASTER_KEY: %w", err)
		}
		return NewSealer(nil, k)
	}
	current, err := loadOrCreate(path)
	if err != nil {
		return nil, err
	}
	return withPending(path, current)
}

// withPending returns a Sealer of the current master key and, when a
// re-key left one at path+PendingSuffix, its successor first.
func withPending(path string, current []byte) (*Sealer, error) {
	pending, err := readMaster(path + PendingSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return NewSealer(nil, current)
	}
	if err != nil {
		return nil, err
	}
	return NewSealer(nil, pending, current)
}

// ErrNoMasterKey means the master key file does not exist (and
// CERTKEEPER_MASTER_KEY is not set).
var ErrNoMasterKey = errors.New("keys: no master key")

// ErrWrongMasterKey means the master key does not open the secrets
// sealed in the inventory.
var ErrWrongMasterKey = errors.New("keys: the master key does not open the inventory's sealed secrets")

// Unlock returns the Sealer for an inventory whose sealed secrets include
// samples (none for an inventory that holds nothing sealed). The master
// key is env (base64) when not empty, else the file at path with its
// pending successor, as LoadSealer reads them.
//
// A missing file is created only when create is set and samples is empty:
// a new key for an inventory that already holds sealed secrets would seal
// new ones under a key the old ones do not share. Otherwise a missing file
// is ErrNoMasterKey. A key that does not open every sample is
// ErrWrongMasterKey. When create is false and the inventory holds nothing
// sealed, a missing file gives a Sealer over a random key held in memory
// only, for commands that read and never seal.
func Unlock(path, env string, samples [][]byte, create bool) (*Sealer, error) {
	s, err := readSealer(path, env)
	switch {
	case errors.Is(err, fs.ErrNotExist) && len(samples) > 0:
		return nil, ErrNoMasterKey
	case errors.Is(err, fs.ErrNotExist) && create:
		return LoadSealer(path, env)
	case errors.Is(err, fs.ErrNotExist):
		return ephemeralSealer()
	case err != nil:
		return nil, err
	}
	for _, b := range samples {
		if err := s.Opens(b); err != nil {
			return nil, fmt.Errorf("%w (%v)", ErrWrongMasterKey, err)
		}
	}
	return s, nil
}

// readSealer is LoadSealer without creating anything: a missing master
// key file is an error matching fs.ErrNotExist.
func readSealer(path, env string) (*Sealer, error) {
	if env != "" {
		return LoadSealer(path, env)
	}
	current, err := readMaster(path)
	if err != nil {
		return nil, err
	}
	return withPending(path, current)
}

// ephemeralSealer stands in for a master key that does not exist: a
// random key no file keeps, which refuses to seal.
func ephemeralSealer() (*Sealer, error) {
	k := make([]byte, MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("keys: random: %w", err)
	}
	s, err := NewSealer(nil, k)
	if err != nil {
		return nil, err
	}
	s.openOnly = true
	return s, nil
}

// Pending reports whether an interrupted re-key left a successor file.
func Pending(path string) bool {
	_, err := os.Stat(path + PendingSuffix)
	return err == nil
}

// BeginRekey writes a new random master key to path + PendingSuffix
// (keeping one already there from an interrupted re-key) and returns a
// Sealer that seals under it and opens under it and the current key.
func BeginRekey(path string) (*Sealer, error) {
	current, err := readMaster(path)
	if err != nil {
		return nil, err
	}
	pending, err := readMaster(path + PendingSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		pending, err = createMaster(path + PendingSuffix)
	}
	if err != nil {
		return nil, err
	}
	return NewSealer(nil, pending, current)
}

// CommitRekey makes the pending master key the current one. Call it only
// after every sealed blob was re-wrapped under the pending key: the old key
// is gone afterwards.
func CommitRekey(path string) error {
	if err := os.Rename(path+PendingSuffix, path); err != nil {
		return fmt.Errorf("keys: commit re-key: %w", err)
	}
	return atomicfile.SyncDir(filepath.Dir(path))
}

func loadOrCreate(path string) ([]byte, error) {
	k, err := readMaster(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createMaster(path)
	}
	return k, err
}

func readMaster(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("keys: master key file %s is readable by others (mode %04o): run chmod 600 on it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	k, err := decodeMaster(string(b))
	if err != nil {
		return nil, fmt.Errorf("keys: master key file %s: %w", path, err)
	}
	return k, nil
}

func decodeMaster(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) != MasterKeySize {
		return nil, fmt.Errorf("not a base64-encoded %d-byte key", MasterKeySize)
	}
	return k, nil
}

// createMaster writes a new random key to a temporary file and publishes
// it with link(2), which fails when path exists: two processes starting
// together agree on one key, and no reader ever sees a half-written file.
func createMaster(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	k := make([]byte, MasterKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("keys: random: %w", err)
	}
	tmp, err := writeTemp(dir, base64.StdEncoding.EncodeToString(k)+"\n")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	err = os.Link(tmp, path)
	if errors.Is(err, fs.ErrExist) {
		return readMaster(path)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return k, atomicfile.SyncDir(dir)
}

func writeTemp(dir, content string) (string, error) {
	f, err := os.CreateTemp(dir, ".master-*.tmp")
	if err != nil {
		return "", fmt.Errorf("keys: %w", err)
	}
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("keys: write master key: %w", err)
	}
	return f.Name(), nil
}
