package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// Backup folders: <Directory>/.certkeeper-backup/<time>[-N]/ holds a copy
// of every file an install replaced, at the same relative path and with
// the same mode, and manifest.json, written last.
const (
	backupRoot   = ".certkeeper-backup"
	manifestName = "manifest.json"
	// keepBackups is how many backup folders are kept per directory.
	keepBackups = 10
	// backupTimeFormat names backup folders by the install's UTC time.
	backupTimeFormat = "20060102T150405Z"
	// maxManifestSize and maxManifestPaths bound a manifest read back
	// from a host.
	maxManifestSize  = 1 << 20
	maxManifestPaths = 1000
)

// manifest records what one install did, so that a roll back (right
// away, or later by hand) can undo it: the files of Written that are not
// in Created are restored from the backup folder, those of Created are
// removed.
type manifest struct {
	Version int       `json:"version"`
	Time    time.Time `json:"time"`
	Label   string    `json:"label,omitempty"`
	// Written and Created are relative to the install's directory.
	Written []string `json:"written"`
	Created []string `json:"created,omitempty"`
}

// replaced returns the paths of Written that existed before the install.
func (m *manifest) replaced() []string {
	var out []string
	for _, p := range m.Written {
		if !slices.Contains(m.Created, p) {
			out = append(out, p)
		}
	}
	return out
}

func (m *manifest) marshal() ([]byte, error) {
	return json.MarshalIndent(m, "", "  ")
}

// parseManifest reads a manifest that comes from a host, which may be
// hostile: the size and the number of paths are bounded, and every path
// must stay inside the install's directory (and outside its backups).
func parseManifest(data []byte) (*manifest, error) {
	if len(data) > maxManifestSize {
		return nil, fmt.Errorf("manifest is larger than %d bytes", maxManifestSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if dec.More() {
		return nil, errors.New("manifest: data after the JSON object")
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return &m, nil
}

func (m *manifest) validate() error {
	switch {
	case m.Version != 1:
		return fmt.Errorf("version %d, want 1", m.Version)
	case len(m.Written) == 0:
		return errors.New("no written files")
	case len(m.Written)+len(m.Created) > maxManifestPaths:
		return fmt.Errorf("more than %d paths", maxManifestPaths)
	}
	for _, p := range m.Written {
		if err := checkRelPath(p); err != nil {
			return err
		}
	}
	if dup := firstDuplicate(m.Written); dup != "" {
		return fmt.Errorf("path %q is written twice", dup)
	}
	for _, p := range m.Created {
		if !slices.Contains(m.Written, p) {
			return fmt.Errorf("created path %q is not among the written ones", p)
		}
	}
	return nil
}

// checkRelPath accepts a clean relative path with forward slashes that
// stays inside its directory and outside the backup folders.
func checkRelPath(p string) error {
	switch {
	case p == "" || p == ".":
		return errors.New("empty path")
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("path %q is absolute", p)
	case strings.ContainsAny(p, "\\\x00"):
		return fmt.Errorf("path %q holds a backslash or NUL", p)
	case slices.Contains(strings.Split(p, "/"), ".."):
		return fmt.Errorf("path %q contains \"..\"", p)
	case path.Clean(p) != p:
		return fmt.Errorf("path %q is not clean (want %q)", p, path.Clean(p))
	case p == backupRoot || strings.HasPrefix(p, backupRoot+"/"):
		return fmt.Errorf("path %q is inside the backup folder", p)
	}
	return nil
}

func firstDuplicate(paths []string) string {
	seen := make(map[string]bool, len(paths))
	for _, p := range paths {
		if seen[p] {
			return p
		}
		seen[p] = true
	}
	return ""
}
