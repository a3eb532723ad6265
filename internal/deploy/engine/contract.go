package engine

import (
	"context"
	"crypto/x509"
	"io/fs"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Limits.
const (
	// DefaultCommandTimeout bounds a test or reload command whose plan
	// gives none.
	DefaultCommandTimeout = 60 * time.Second
	// MaxOutput is how much of a command's output is kept (the tail is
	// cut, with a marker).
	MaxOutput = 16 << 10
)

// PlanFile is one file to write.
type PlanFile struct {
	// Path is relative to Plan.Directory, forward slashes, no "..".
	Path string      `json:"path"`
	Data []byte      `json:"data"`
	Mode fs.FileMode `json:"mode"`
	// Secret marks files holding a private key (never logged, never
	// shown).
	Secret bool `json:"secret,omitempty"`
}

// Plan is everything an install does on one host: the files, where,
// whose, and the commands. It is what the agent receives and what an
// encrypted package holds.
type Plan struct {
	// Directory is absolute on the host.
	Directory string     `json:"directory"`
	Files     []PlanFile `json:"files"`
	// Owner is "user", "user:group" or "".
	Owner         string        `json:"owner,omitempty"`
	TestCommand   string        `json:"test_command,omitempty"`
	ReloadCommand string        `json:"reload_command,omitempty"`
	Timeout       time.Duration `json:"timeout,omitempty"`
	// Label names the install in backup folder names and logs (the
	// target's name).
	Label string `json:"label,omitempty"`
}

// Host is a machine files are installed on: the local machine, an SSH
// server, or the agent's own machine. Paths are absolute, with forward
// slashes.
type Host interface {
	// ReadFile returns a file's content and mode; a missing file gives an
	// error wrapping fs.ErrNotExist.
	ReadFile(ctx context.Context, name string) ([]byte, fs.FileMode, error)
	// WriteFile replaces name atomically (temporary file in the same
	// directory with mode and owner set before any byte is written, then
	// a rename), creating missing parent directories with mode 0755.
	WriteFile(ctx context.Context, name string, data []byte, mode fs.FileMode, owner string) error
	// Remove deletes a file; a missing one is not an error.
	Remove(ctx context.Context, name string) error
	// Run runs command through the host's shell within timeout and returns
	// its combined output (at most MaxOutput bytes kept). A non-zero exit
	// or a timeout is an error that says which.
	Run(ctx context.Context, command string, timeout time.Duration) (output string, err error)
	// String names the host in messages ("local", "ssh root@host:22",
	// "agent web1").
	String() string
}

// InstallReport says what an install did.
type InstallReport struct {
	// Backup is the folder the replaced files were copied to ("" when
	// nothing was replaced); Rollback needs it.
	Backup string `json:"backup,omitempty"`
	// Written lists the paths written; Created those that did not exist
	// before (a roll back removes them).
	Written []string `json:"written"`
	Created []string `json:"created,omitempty"`
	// TestOutput and ReloadOutput are what the commands printed.
	TestOutput   string `json:"test_output,omitempty"`
	ReloadOutput string `json:"reload_output,omitempty"`
	// RolledBack is set when the install failed and the replaced files
	// were restored (and the server reloaded again).
	RolledBack bool `json:"rolled_back,omitempty"`
}

// Want is what a deploy check expects to be served.
type Want struct {
	// Leaf is the certificate that should be served.
	Leaf *x509.Certificate
	// Intermediates are the CA certificates between Leaf and its root
	// that a server must send (no self-signed root).
	Intermediates []*x509.Certificate
	// Roots verify the served chain; nil means the system roots. The
	// revocation status is asked of an OCSP responder only when the
	// leaf's issuer chains to Roots.
	Roots *x509.CertPool
	// ExpectedSHA256 is the lowercase hex SHA-256 of the leaf that should
	// be served, for when the certificate itself is not at hand (a Job
	// carries only its hash). When Leaf is set, Leaf's hash wins.
	ExpectedSHA256 string
}

// Job is an install followed by a check, as run by the manager (directory
// and SSH targets), an agent, or `certkeeper install`.
type Job struct {
	Plan Plan `json:"plan"`
	// Check is where to check after the install; a zero Host means no
	// check.
	Check inventory.CheckSpec `json:"check"`
	// ExpectedSHA256 is the leaf that must be served; Chain is the PEM of
	// the intermediates and root the certificate chains to. A
	// self-signed certificate of Chain is never trusted for the check.
	ExpectedSHA256 string `json:"expected_sha256"`
	Chain          []byte `json:"chain,omitempty"`
	// Roots is the PEM of the trusted roots the manager's trust store
	// holds, and NoSystemRoots says the system roots are not trusted
	// (the zero value trusts them): the check trusts these and nothing
	// else, wherever it runs.
	Roots         []byte `json:"roots,omitempty"`
	NoSystemRoots bool   `json:"no_system_roots,omitempty"`
	// RollbackOnFailure restores the backup when the check fails.
	RollbackOnFailure bool `json:"rollback_on_failure"`
	// Settle bounds how long the check waits for a reload to take effect;
	// it is the runner's choice and never travels with the job.
	Settle Settle `json:"-"`
}

// Settle is how long Run tries a check again while the server reloads
// (Timeout; zero means 15 seconds) and how often (Interval; zero means
// 100 milliseconds).
type Settle struct {
	Timeout  time.Duration
	Interval time.Duration
}

// orDefault returns s with zero fields set to their defaults.
func (s Settle) orDefault() Settle {
	if s.Timeout <= 0 {
		s.Timeout = 15 * time.Second
	}
	if s.Interval <= 0 {
		s.Interval = 100 * time.Millisecond
	}
	return s
}

// Outcome is what running a Job did.
type Outcome struct {
	Install *InstallReport         `json:"install,omitempty"`
	Check   *inventory.CheckResult `json:"check,omitempty"`
	// Installed is set when the files are in place and the server was
	// reloaded (even if the check then failed).
	Installed bool `json:"installed"`
	// RolledBack is set when the backup was restored because the install
	// or the check failed.
	RolledBack bool `json:"rolled_back"`
	// Error is one line saying what failed; "" when everything passed.
	Error string `json:"error,omitempty"`
}

// CheckFunc runs a deploy check; Check is the manager's, an agent or
// `certkeeper install` pass the same.
type CheckFunc func(ctx context.Context, spec inventory.CheckSpec, want Want) *inventory.CheckResult

// AgentJob is one deployment an agent is asked to install.
type AgentJob struct {
	DeploymentID int64  `json:"deployment_id"`
	Target       string `json:"target"`
	Job          Job    `json:"job"`
}

// LeafSHA256 is the lowercase hex SHA-256 of the leaf w expects: Leaf's
// when set, else ExpectedSHA256 (trimmed, lowercase).
func (w Want) LeafSHA256() string {
	if w.Leaf != nil {
		return inventory.SHA256Hex(w.Leaf.Raw)
	}
	return strings.ToLower(strings.TrimSpace(w.ExpectedSHA256))
}
