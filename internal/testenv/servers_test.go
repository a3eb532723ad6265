package testenv

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// runShell runs cmd with /bin/sh as a deployment target does.
func runShell(t *testing.T, cmd string) {
	t.Helper()
	if out, err := exec.Command("/bin/sh", "-c", cmd).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
}

func TestStartApache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	a := StartApache(t, filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem"))
	runShell(t, a.TestCommand())
	runShell(t, a.ReloadCommand())
	// httpd's parent starts the new children within a second or so.
	waitTLS(t, "apache2 after a graceful restart", a.proc, a.Addr, 10*time.Second, a.Log)
}

func TestStartHAProxy(t *testing.T) {
	h := StartHAProxy(t, filepath.Join(t.TempDir(), "tls", "haproxy.pem"))
	runShell(t, h.TestCommand())
	runShell(t, h.ReloadCommand())
	waitTLS(t, "haproxy after a reload", h.proc, h.Addr, 10*time.Second, h.Log)
}
