package archive

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/internal/deploytest"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestInstall: a package installs on this machine with a backup, and a
// check that sees another certificate than the package's fails and rolls
// the files back.
func TestInstall(t *testing.T) {
	dir := t.TempDir()
	p := &Package{Job: engine.Job{Plan: deploytest.Plan(t, dir)}}
	out := p.Install(context.Background(), InstallOptions{})
	if out.Error != "" || !out.Installed || out.Install == nil || out.Install.Backup == "" {
		t.Fatalf("Install = %+v, want installed with a backup", out)
	}
	deploytest.AssertFile(t, filepath.Join(dir, "fullchain.pem"), "new cert", 0o644)

	pki := deploytest.NewPKI(t, "Install")
	served := pki.Good(t)
	port := deploytest.StartTLS(t, deploytest.TLSCert(served, pki.Inter), nil)
	dir2 := t.TempDir()
	p = &Package{Job: engine.Job{Plan: deploytest.Plan(t, dir2), RollbackOnFailure: true,
		Check:          inventory.CheckSpec{Host: "127.0.0.1", Port: port, SNI: deploytest.Name},
		ExpectedSHA256: strings.Repeat("ab", 32), Chain: deploytest.CertsPEM(pki.Inter),
		Settle: engine.Settle{Timeout: 50 * time.Millisecond, Interval: 10 * time.Millisecond}}}
	out = p.Install(context.Background(), InstallOptions{CheckTimeout: 5 * time.Second})
	if out.Error == "" || !out.RolledBack || out.Check == nil || out.Check.Match {
		t.Fatalf("Install with a mismatching server = error %q, rolled back %v, check %+v; want a failed check rolled back",
			out.Error, out.RolledBack, out.Check)
	}
	deploytest.AssertFile(t, filepath.Join(dir2, "fullchain.pem"), "old cert", 0o644)
}
