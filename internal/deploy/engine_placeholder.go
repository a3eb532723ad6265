package deploy

// PLACEHOLDER: replaced by the install engine (host.go, local.go, ssh.go, apply.go, plan.go).

import (
	"context"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/kit"
)

// NewLocal returns the machine certkeeper runs on as a Host.
func NewLocal() Host { panic("not implemented") }

// Apply installs p on h: backup, atomic writes, test, reload.
func Apply(ctx context.Context, h Host, p Plan, now time.Time) (*InstallReport, error) {
	panic("not implemented")
}

// Rollback restores the backup folder backup of an install of p and reloads.
func Rollback(ctx context.Context, h Host, p Plan, backup string) (string, error) {
	panic("not implemented")
}

// Run applies j.Plan, checks, and rolls back on failure when asked.
func Run(ctx context.Context, h Host, j Job, check CheckFunc, now time.Time) *Outcome {
	panic("not implemented")
}

// SSHConfig is how to reach an SSH host.
type SSHConfig struct {
	Access     inventory.SSHAccess
	Password   string
	PrivateKey []byte
	Timeout    time.Duration
}

// SSHHost is a Host over SSH and SFTP.
type SSHHost struct{}

// DialSSH connects and authenticates, pinning the host key.
func DialSSH(ctx context.Context, c SSHConfig) (*SSHHost, error) { panic("not implemented") }

// Close ends the connection.
func (h *SSHHost) Close() error { panic("not implemented") }

// ScanHostKey returns the host key addr presents, authorized_keys form.
func ScanHostKey(ctx context.Context, addr string, timeout time.Duration) (string, error) {
	panic("not implemented")
}

// BuildPlan renders pr's files for target t from m.
func BuildPlan(pr Preset, t *inventory.Target, m kit.Material) (Plan, error) {
	panic("not implemented")
}
