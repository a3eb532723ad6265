package sshhost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// ErrStalled is wrapped by the errors of a Host whose server stopped
// answering: it sent nothing for the idle timeout, took nothing sent to
// it, or left a keepalive unanswered. The connection is then closed, so
// that every operation under way fails instead of waiting forever.
var ErrStalled = errors.New("the server stopped answering")

// defaultIdleTimeout is Config.IdleTimeout's default.
const defaultIdleTimeout = 60 * time.Second

// idleConn is a net.Conn whose every read and write must make progress
// within idle: each call sets a new deadline, so the deadline moves on
// while data flows and passes only when the peer is silent (or takes
// nothing). A call that runs out of time records why in cause.
type idleConn struct {
	net.Conn
	idle  time.Duration
	cause *liveness
}

func (c *idleConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	c.note(err, "received nothing")
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(p)
	c.note(err, "could send nothing")
	return n, err
}

// note records a deadline that passed as the connection's cause of death.
func (c *idleConn) note(err error, what string) {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.cause.set(fmt.Errorf("%w: %s for %s", ErrStalled, what, c.idle))
	}
}

// liveness is why a connection was closed under its users: the first
// cause set wins.
type liveness struct {
	mu  sync.Mutex
	err error
}

func (l *liveness) set(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = err
	}
}

func (l *liveness) get() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// keepalive sends a keepalive@openssh.com request every interval until
// done is closed; a request not answered within timeout declares the
// server dead and closes the connection. Any answer counts (OpenSSH
// refuses the request, which is an answer).
func (h *Host) keepalive(interval, timeout time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-t.C:
		}
		if !h.ping(timeout) {
			return
		}
	}
}

// ping sends one keepalive and reports whether it was answered in time.
func (h *Host) ping(timeout time.Duration) bool {
	answered := make(chan error, 1)
	go func() {
		_, _, err := h.client.SendRequest("keepalive@openssh.com", true, nil)
		answered <- err
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-answered:
		return err == nil
	case <-timer.C:
		h.abort(fmt.Errorf("%w: no answer to a keepalive within %s", ErrStalled, timeout))
	case <-h.done:
	}
	return false
}

// abort closes the connection under its users, recording cause.
func (h *Host) abort(cause error) {
	h.cause.set(cause)
	h.client.Close()
}

// guard runs op, closing the connection if ctx ends first, and explains
// op's error: the context's, or why the connection died, before op's own.
func (h *Host) guard(ctx context.Context, op func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := h.watch(ctx)
	err := op()
	stop()
	return h.explain(err)
}

// watch closes the connection when ctx ends, until stop is called: SFTP
// requests and session requests cannot be cancelled one by one.
func (h *Host) watch(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() { h.abort(fmt.Errorf("%s: %w", h.name, ctx.Err())) })
}

// explain puts the cause of the connection's death, if any, in front of
// err, keeping both inspectable.
func (h *Host) explain(err error) error {
	if err == nil {
		return nil
	}
	if cause := h.cause.get(); cause != nil {
		return fmt.Errorf("%w: %w", cause, err)
	}
	return err
}
