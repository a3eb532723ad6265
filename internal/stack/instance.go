package stack

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/certkeeper/certkeeper/internal/atomicfile"
)

// InstanceFileName keeps the instance's name in its data directory, so
// that it stays the same across restarts.
const InstanceFileName = "instance-name"

// maxInstanceName bounds an instance name.
const maxInstanceName = 64

// instanceName is configured when set, else the name kept in
// DATA-DIR/instance-name, written on first start as the host name and a
// random suffix. The scheduler names this instance with it in leases,
// its history and its per-instance jobs (KIND@NAME).
func instanceName(configured, dataDir string) (string, error) {
	if configured != "" {
		return configured, checkInstanceName(configured)
	}
	file := filepath.Join(dataDir, InstanceFileName)
	data, err := os.ReadFile(file)
	if err == nil {
		name := strings.TrimSpace(string(data))
		if err := checkInstanceName(name); err != nil {
			return "", fmt.Errorf("%s: %w", file, err)
		}
		return name, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("instance name: %w", err)
	}
	name := newInstanceName()
	return name, atomicfile.Write(file, []byte(name+"\n"), 0o644)
}

func newInstanceName() string {
	host, err := os.Hostname()
	if err != nil || checkInstanceName(host) != nil {
		host = "certkeeper"
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return host + "-" + hex.EncodeToString(b)
}

// checkInstanceName accepts 1 to 64 letters, digits, '.', '-' and '_'.
func checkInstanceName(name string) error {
	if name == "" || len(name) > maxInstanceName || strings.TrimFunc(name, func(r rune) bool {
		return r < 128 && (r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) != "" {
		return fmt.Errorf("instance name %q: want 1 to %d letters, digits, '.', '-' or '_'", name, maxInstanceName)
	}
	return nil
}
