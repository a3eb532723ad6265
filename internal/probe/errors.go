package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/certkeeper/certkeeper/internal/outbound"
)

// Kinds of failure, for errors.Is on an *Error.
var (
	// ErrRefused: nothing listens on the port (TCP reset to the SYN).
	ErrRefused = errors.New("probe: connection refused")
	// ErrUnresolved: the host name does not resolve.
	ErrUnresolved = errors.New("probe: host not found")
	// ErrTimeout: no connection, or no TLS answer, within the timeout.
	ErrTimeout = errors.New("probe: timed out")
	// ErrNotTLS: the service answered with something other than TLS.
	ErrNotTLS = errors.New("probe: not a TLS service")
	// ErrClosed: the service closed the connection during the handshake.
	ErrClosed = errors.New("probe: connection closed during the handshake")
	// ErrAlert: the server ended the handshake with a TLS alert.
	ErrAlert = errors.New("probe: TLS alert")
)

// Error is a failed probe. Its message is one line,
// "probe: HOST:PORT: what happened".
type Error struct {
	Addr   string
	Reason string // what happened, in plain words
	Kind   error  // one of the Err variables, outbound.ErrDenied, or nil
	Err    error  // the underlying error
}

func (e *Error) Error() string { return "probe: " + e.Addr + ": " + e.Reason }

// Unwrap returns the kind and the underlying error, so that both
// errors.Is(err, ErrTimeout) and errors.Is(err, context.DeadlineExceeded)
// work.
func (e *Error) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func (p *prober) fail(kind error, err error, format string, args ...any) *Error {
	return &Error{Addr: p.addr, Reason: fmt.Sprintf(format, args...), Kind: kind, Err: err}
}

// dialError explains a failed TCP connection.
func (p *prober) dialError(ctx context.Context, err error) *Error {
	var dnsErr *net.DNSError
	var denied *outbound.DeniedError
	switch {
	case errors.As(err, &denied):
		return p.fail(outbound.ErrDenied, denied, "%s", denied.Error())
	case errors.Is(ctx.Err(), context.Canceled):
		return p.fail(nil, err, "probe canceled")
	case timedOut(ctx, err):
		return p.fail(ErrTimeout, cause(ctx, err), "no TCP connection %s (the port may be filtered or the host down)", p.within())
	case errors.Is(err, syscall.ECONNREFUSED):
		return p.fail(ErrRefused, err, "nothing listens on the port (connection refused)")
	case errors.As(err, &dnsErr):
		return p.fail(ErrUnresolved, err, "cannot resolve %q: %s", dnsErr.Name, dnsErr.Err)
	}
	return p.fail(nil, err, "cannot connect: %s", innermost(err))
}

// handshakeError explains a failed TLS handshake.
func (p *prober) handshakeError(ctx context.Context, err error) *Error {
	var rhe tls.RecordHeaderError
	var op *net.OpError
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return p.fail(nil, err, "probe canceled")
	case timedOut(ctx, err):
		return p.fail(ErrTimeout, cause(ctx, err), "no TLS answer %s", p.within())
	case errors.As(err, &rhe):
		return p.fail(ErrNotTLS, err, "the service does not speak TLS (it answered %q)", printable(rhe.RecordHeader[:]))
	case errors.As(err, &op) && op.Op == "remote error":
		return p.fail(ErrAlert, err, "the server refused the handshake with TLS alert %q", strings.TrimPrefix(op.Err.Error(), "tls: "))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return p.fail(ErrClosed, err, "the service closed the connection without a TLS answer (not TLS, or it refused every version and cipher suite offered)")
	}
	return p.fail(nil, err, "TLS handshake failed: %s", innermost(err))
}

// within says how long the probe waited: its own timeout, or less when the
// caller's context had an earlier deadline.
func (p *prober) within() string {
	if p.callerDeadline {
		return "before the caller's deadline"
	}
	return "within " + p.timeout.String()
}

// cause prefers the context's error, so that errors.Is(err,
// context.DeadlineExceeded) holds whether the context or a connection
// deadline fired first.
func cause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func timedOut(ctx context.Context, err error) bool {
	var ne net.Error
	return errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// innermost drops the "dial tcp 1.2.3.4:5:" decorations of a *net.OpError,
// which repeat the address the message already names.
func innermost(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// printable shows the bytes a non-TLS service sent, dots for the unprintable.
func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '.'
		}
		return r
	}, string(b))
}

// startTLSError explains a failed STARTTLS dialogue, or one that ctx
// ended.
func (p *prober) startTLSError(ctx context.Context, err error) *Error {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return p.fail(nil, err, "probe canceled")
	case timedOut(ctx, err):
		return p.fail(ErrTimeout, cause(ctx, err), "%s: no STARTTLS answer %s", p.startTLS, p.within())
	}
	return p.fail(ErrStartTLS, err, "%s", err.Error())
}
