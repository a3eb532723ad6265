package testenv

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// process is a server program a test started in the foreground, in a
// process group of its own, with its output collected for error
// messages.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startProcess starts bin with args, writing its standard output and
// error to out. The caller stops it (stop) when the test ends.
func startProcess(bin string, args []string, out *lockedBuffer) (*process, error) {
	return startCommand(exec.Command(bin, args...), out)
}

// startCommand starts cmd as startProcess does; cmd may set its own
// SysProcAttr.Credential.
func startCommand(cmd *exec.Cmd, out *lockedBuffer) (*process, error) {
	p := &process{cmd: cmd, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = out, out
	if p.cmd.SysProcAttr != nil {
		p.cmd.SysProcAttr.Setpgid = true
		return p, p.begin()
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return p, p.begin()
}

func (p *process) begin() error {
	if err := p.cmd.Start(); err != nil {
		return err
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	return nil
}

// pid is the process's ID.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process the test started, again every
// half second (a signal that arrives while haproxy's master re-executes
// itself for a reload is lost), then kills it when it has not exited
// after 15 seconds.
func (p *process) stop() {
	deadline := time.After(15 * time.Second)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			return
		case <-tick.C:
		case <-deadline:
			_ = p.cmd.Process.Kill()
			<-p.done
			return
		}
	}
}

// waitTLS returns once addr completes a TLS handshake, and fails the
// test when p exits first or after timeout; log says what the server
// wrote.
func waitTLS(t testing.TB, what string, p *process, addr string, timeout time.Duration, log func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !tlsAnswers(addr, "") {
		if p.exited() {
			t.Fatalf("testenv: %s exited: %s", what, log())
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: %s does not answer TLS on %s after %s: %s", what, addr, timeout, log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startServer starts bin with args as a test's server, stopped in
// t.Cleanup, and waits until addr answers TLS.
func startServer(t testing.TB, what, bin string, args []string, addr string, log func() string, out *lockedBuffer) *process {
	t.Helper()
	p, err := startProcess(bin, args, out)
	if err != nil {
		t.Fatalf("testenv: start %s: %v", what, err)
	}
	t.Cleanup(p.stop)
	waitTLS(t, what, p, addr, 15*time.Second, log)
	return p
}
