// Package outbound decides where certkeeper may connect on someone's
// behalf, and makes those connections: deploy checks and their OCSP
// requests, SSH deployments, SMTP. A Policy of allow and deny rules is
// applied by a Dialer to the very IP address each connection attempt goes
// to, after name resolution, so that neither a DNS answer nor a redirect
// can lead a connection where the policy forbids.
//
// Connections an operator makes for themself from their own machine
// (`certkeeper inspect`, `check --report`, the agent on its host) go
// through a nil *Dialer, which applies no policy. See docs/outbound.md.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultDialTimeout bounds one TCP connection attempt of a Dialer whose
// Timeout is zero.
const DefaultDialTimeout = 15 * time.Second

// Dialer connects under the current Policy. It is safe for concurrent
// use, and its policy may be swapped at any time; a connection already
// made is not affected.
//
// A nil *Dialer connects directly, with no policy at all: that is for the
// commands an operator runs for themself, never for the server.
type Dialer struct {
	policy atomic.Pointer[Policy]
	// Timeout bounds each connection attempt; 0 means DefaultDialTimeout.
	// Set it before first use.
	Timeout time.Duration
}

// NewDialer returns a dialer applying p; nil means the zero Policy (the
// built-in denials only).
func NewDialer(p *Policy) *Dialer {
	d := &Dialer{}
	d.SetPolicy(p)
	return d
}

// SetPolicy makes p the policy of every later connection; nil means the
// zero Policy. p must not be changed afterwards.
func (d *Dialer) SetPolicy(p *Policy) {
	if p == nil {
		p = &Policy{}
	}
	d.policy.Store(p)
}

// Policy returns the policy in force (never nil for a non-nil Dialer).
func (d *Dialer) Policy() *Policy {
	if d == nil {
		return nil
	}
	return d.policy.Load()
}

// DialContext connects to addr ("host:port") over "tcp", "tcp4" or
// "tcp6". Every address the name resolves to is checked against the
// policy just before the attempt to connect to it (net.Dialer's Control
// hook), so that no packet is sent to a denied address. When the policy
// refuses, the error is the *DeniedError alone, never a connect error.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("outbound: network %q: only TCP connections are made", network)
	}
	nd := net.Dialer{Timeout: d.timeout()}
	if d != nil {
		nd.Control = d.control
	}
	conn, err := nd.DialContext(ctx, network, addr)
	var denied *DeniedError
	if errors.As(err, &denied) {
		return nil, denied
	}
	return conn, err
}

func (d *Dialer) timeout() time.Duration {
	if d == nil || d.Timeout <= 0 {
		return DefaultDialTimeout
	}
	return d.Timeout
}

// control is net.Dialer's Control hook: it runs after the socket is made
// and before connect(2), with the numeric address being connected to.
func (d *Dialer) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("outbound: unexpected address %q: %w", address, ErrDenied)
	}
	return d.Policy().Check(ap)
}
