package sshhost

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"golang.org/x/crypto/ssh"
)

// Run runs command in a session (the user's shell, home directory)
// within timeout; when it passes or ctx ends, the command is sent SIGKILL
// and the session closed, and Run returns without waiting for the
// command.
func (h *Host) Run(ctx context.Context, command string, timeout time.Duration) (string, error) {
	out, err := h.run(ctx, command, timeout)
	return out, h.explain(err)
}

func (h *Host) run(ctx context.Context, command string, timeout time.Duration) (string, error) {
	timeout = engine.CommandTimeout(timeout)
	s, err := h.session(ctx)
	if err != nil {
		return "", err
	}
	defer s.Close()
	var out engine.OutputBuffer
	s.Stdout, s.Stderr = &out, &out
	done := make(chan error, 1)
	go func() { done <- s.Run(command) }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err = <-done:
		return out.String(), sessionError(err)
	case <-timer.C:
		err = engine.TimeoutError(timeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	// Best effort: OpenSSH honours signals (to the command's process
	// group) only in privilege-separated sessions, not in root's.
	_ = s.Signal(ssh.SIGKILL)
	s.Close()
	select {
	case <-done:
	case <-time.After(sessionCloseWait):
	}
	return out.String(), err
}

// session opens a session, closing the connection if ctx ends first.
func (h *Host) session(ctx context.Context) (*ssh.Session, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	stop := h.watch(ctx)
	defer stop()
	s, err := h.client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("ssh session: %w", err)
	}
	return s, nil
}

// sessionCloseWait bounds the wait for a stopped command's session to end.
const sessionCloseWait = 2 * time.Second

// sessionError turns a session's error into "exit code N" when the
// command ran.
func sessionError(err error) error {
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case errors.As(err, &ee) && ee.Signal() != "":
		return fmt.Errorf("killed by signal %s", ee.Signal())
	case errors.As(err, &ee):
		return fmt.Errorf("exit code %d", ee.ExitStatus())
	case errors.As(err, &missing):
		return errors.New("the server did not say how the command ended")
	}
	return err
}
