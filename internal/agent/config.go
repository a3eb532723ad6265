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
	"github.com/certkeeper/certkeeper/internal/deploy"
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
		if _, err := deploy.FindPreset(deploy.Builtin(), name); err != nil {
			return fmt.Errorf("allowed_presets: %w", err)
		}
	}
	for _, c := range st.AllowedCommands {
		if strings.TrimSpace(c) == "" {
			return errors.New("allowed_commands: a blank command")
		}
	}
	return nil
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
	for _, p := range deploy.Builtin() {
		if slices.Contains(st.AllowedPresets, p.Name()) && (p.TestCommand == command || p.ReloadCommand == command) {
			return true
		}
	}
	return false
}

// refuseCommands returns an outcome refusing job j when it asks for a
// test or reload command the configuration does not allow, else nil.
// Nothing has run then.
func (st *State) refuseCommands(j deploy.Job, dir string) *deploy.Outcome {
	for _, c := range []struct{ what, cmd string }{{"test", j.Plan.TestCommand}, {"reload", j.Plan.ReloadCommand}} {
		if !st.Allows(c.cmd) {
			return &deploy.Outcome{Error: fmt.Sprintf("the %s command %q is not allowed by the agent's configuration "+
				"(allowed_presets and allowed_commands in %s); nothing was installed or run",
				c.what, strings.TrimSpace(c.cmd), filepath.Join(dir, StateFile))}
		}
	}
	return nil
}
