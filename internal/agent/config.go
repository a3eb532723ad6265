package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/certkeeper/certkeeper/internal/atomicfile"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
)

// State is the agent's configuration, StateFile in its directory,
// written by Enroll and read at every round; people may edit the allow
// lists (see docs/agent.md).
type State struct {
	// Server is the manager's agent endpoint, https://HOST:PORT.
	Server string `json:"server"`
	// Name is the agent's name.
	Name string `json:"name"`
	// ManagerKeyPin is "sha256:HEX" of the SubjectPublicKeyInfo of the
	// endpoint's certificate, checked on every connection besides the
	// chain; "" (an agent enrolled before pins existed) pins the key the
	// next connection presents.
	ManagerKeyPin string `json:"manager_key_pin,omitempty"`
	// AllowedPresets names built-in presets whose test and reload
	// commands jobs may run here.
	AllowedPresets []string `json:"allowed_presets"`
	// AllowedCommands are further commands jobs may run here, matched
	// exactly (surrounding spaces aside).
	AllowedCommands []string `json:"allowed_commands"`
	// AllowedDirectories, when not empty, are the only directories (and
	// their sub-directories) jobs may write into here; empty lets jobs
	// write wherever the target says, as agents enrolled without
	// --allow-dir do.
	AllowedDirectories []string `json:"allowed_directories,omitempty"`
}

// readState reads dir's StateFile; a field it does not know is an error,
// so that a misspelt allow list is not silently empty.
func readState(dir string) (*State, error) {
	raw, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, fmt.Errorf("agent: not enrolled in %s (run \"certkeeper agent enroll\"): %w", dir, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var st State
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("agent: %s: %w", filepath.Join(dir, StateFile), err)
	}
	if err := st.checkAllowed(); err != nil {
		return nil, fmt.Errorf("agent: %s: %w", filepath.Join(dir, StateFile), err)
	}
	return &st, nil
}

// writeState replaces dir's StateFile atomically.
func writeState(dir string, st *State) error {
	if st.AllowedPresets == nil {
		st.AllowedPresets = []string{}
	}
	if st.AllowedCommands == nil {
		st.AllowedCommands = []string{}
	}
	raw, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, StateFile), append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("agent: write %s: %w", StateFile, err)
	}
	return nil
}

// checkAllowed checks that the allowed presets are built-in ones and the
// commands are not blank.
func (st *State) checkAllowed() error {
	for _, name := range st.AllowedPresets {
		if _, err := engine.FindPreset(engine.Builtin(), name); err != nil {
			return fmt.Errorf("allowed_presets: %w", err)
		}
	}
	for _, c := range st.AllowedCommands {
		if strings.TrimSpace(c) == "" {
			return errors.New("allowed_commands: a blank command")
		}
	}
	for _, d := range st.AllowedDirectories {
		if !filepath.IsAbs(d) {
			return fmt.Errorf("allowed_directories: %q is not an absolute path", d)
		}
	}
	return nil
}

// AllowsDirectory reports whether a job may write into dir: any directory
// when AllowedDirectories is empty, else one of them or a directory below
// one, judged on the cleaned path with symbolic links of its existing
// part resolved (so a link inside an allowed directory cannot lead out).
func (st *State) AllowsDirectory(dir string) bool {
	if len(st.AllowedDirectories) == 0 {
		return true
	}
	if !filepath.IsAbs(dir) {
		return false
	}
	real := resolveExisting(filepath.Clean(dir))
	return slices.ContainsFunc(st.AllowedDirectories, func(a string) bool {
		a = resolveExisting(filepath.Clean(a))
		return real == a || strings.HasPrefix(real, strings.TrimSuffix(a, string(filepath.Separator))+string(filepath.Separator))
	})
}

// resolveExisting resolves the symbolic links of the longest existing
// ancestor of the absolute, clean path p and appends the rest.
func resolveExisting(p string) string {
	rest := ""
	for cur := p; ; cur = filepath.Dir(cur) {
		if real, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(real, rest)
		}
		if cur == filepath.Dir(cur) {
			return p
		}
		rest = filepath.Join(filepath.Base(cur), rest)
	}
}

// Allows reports whether a job may run command here: it is one of the
// allowed commands, or the test or reload command of an allowed built-in
// preset, compared exactly once surrounding spaces are trimmed. No
// command ("") is always allowed.
func (st *State) Allows(command string) bool {
	command = strings.TrimSpace(command)
	if command == "" {
		return true
	}
	if slices.ContainsFunc(st.AllowedCommands, func(c string) bool { return strings.TrimSpace(c) == command }) {
		return true
	}
	for _, p := range engine.Builtin() {
		if slices.Contains(st.AllowedPresets, p.Name()) && (p.TestCommand == command || p.ReloadCommand == command) {
			return true
		}
	}
	return false
}

// refuseJob returns an outcome refusing job j when it asks for a test or
// reload command, or a directory, the configuration does not allow, else
// nil. Nothing has been written or run then.
func (st *State) refuseJob(j engine.Job, dir string) *engine.Outcome {
	if !st.AllowsDirectory(j.Plan.Directory) {
		return &engine.Outcome{Error: fmt.Sprintf("the directory %q is not allowed by the agent's configuration "+
			"(allowed_directories in %s); nothing was installed or run", j.Plan.Directory, filepath.Join(dir, StateFile))}
	}
	for _, c := range []struct{ what, cmd string }{{"test", j.Plan.TestCommand}, {"reload", j.Plan.ReloadCommand}} {
		if !st.Allows(c.cmd) {
			return &engine.Outcome{Error: fmt.Sprintf("the %s command %q is not allowed by the agent's configuration "+
				"(allowed_presets and allowed_commands in %s); nothing was installed or run",
				c.what, strings.TrimSpace(c.cmd), filepath.Join(dir, StateFile))}
		}
	}
	return nil
}
