// Package probe observes a TLS endpoint: it connects, completes a handshake
// and reports what the server presented, without judging it. Judging the
// chain is package trust's job.
package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strconv"
	"time"

	"github.com/certkeeper/certkeeper/internal/outbound"
)

// DefaultTimeout bounds a probe whose Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Options configure a probe. The zero value probes with SNI taken from the
// address, a 10-second timeout, a direct connection and no client
// certificate.
type Options struct {
	// ServerName is sent as SNI (RFC 6066, section 3) and reported as the
	// name to check. "" means the host part of addr; when that is an IP
	// literal no SNI is sent and the IP is the name to check.
	ServerName string
	// Timeout bounds the whole dial and handshake; 0 means DefaultTimeout.
	Timeout time.Duration
	// DialContext opens the TCP connection and must give up when ctx ends;
	// nil connects directly, with no outbound policy (for commands an
	// operator runs for themself; the server passes an outbound.Dialer's).
	// The handshake ends with ctx whatever the connection.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// ClientCertificate is presented to servers that ask for one (mutual
	// TLS); nil means none is sent.
	ClientCertificate *tls.Certificate
	// StartTLS, when set, upgrades a plain-text protocol's connection
	// before the handshake (SMTP's STARTTLS, PostgreSQL's SSLRequest ...);
	// StartTLSAuto picks the protocol by port, see StartTLS.ForPort.
	StartTLS StartTLS
	// Now reads the clock to measure Result.Duration; nil means time.Now.
	Now func() time.Time
}

// Result is what a server presented.
type Result struct {
	// Address is the address probed, as given.
	Address string
	// ServerName is the name the chain should be checked against: the SNI
	// sent, or the IP literal probed.
	ServerName string
	// Version is the negotiated protocol version, e.g. "TLS 1.3".
	Version string
	// CipherSuite is the negotiated suite, as named by tls.CipherSuiteName.
	CipherSuite string
	// Chain holds the certificates exactly as served, in served order.
	Chain []*x509.Certificate
	// Duration is the time taken by the dial and the handshake.
	Duration time.Duration
	// StartTLS is the protocol upgraded before the handshake, "" when
	// TLS started at once.
	StartTLS StartTLS
	// OCSPStaple is the OCSP response the server stapled (RFC 6066,
	// section 8), unverified; nil when none.
	OCSPStaple []byte
}

// TLS connects to addr ("host:port"), completes a TLS handshake and returns
// what the server presented. Every error is an *Error.
//
// The handshake does not verify the server's chain (InsecureSkipVerify): a
// probe must see expired, self-signed or mismatched certificates to report
// them, and no application data is ever sent over the connection. It offers
// TLS 1.0 to 1.3 and every cipher suite Go implements, insecure ones
// included, so that old servers can be observed too.
func TLS(ctx context.Context, addr string, opts Options) (*Result, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &Error{Addr: addr, Reason: "not a host:port address", Err: err}
	}
	p := newProber(addr, host, opts)
	p.startTLS = opts.StartTLS.ForPort(port)
	if p.startTLS != StartTLSNone && upgraderFor(p.startTLS) == nil {
		return nil, &Error{Addr: addr, Reason: "unknown STARTTLS protocol " + strconv.Quote(string(p.startTLS))}
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < p.timeout {
		p.callerDeadline = true
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	start := p.now()
	conn, err := p.handshake(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return p.result(conn.ConnectionState(), p.now().Sub(start)), nil
}

// prober holds one probe's settings, defaults applied.
type prober struct {
	addr, name string
	sni        string
	startTLS   StartTLS
	timeout    time.Duration
	opts       Options
	// callerDeadline is set when ctx ends before timeout.
	callerDeadline bool
}

func newProber(addr, host string, opts Options) *prober {
	p := &prober{addr: addr, name: opts.ServerName, timeout: opts.Timeout, opts: opts}
	if p.name == "" {
		p.name = host
	}
	if net.ParseIP(p.name) == nil {
		p.sni = p.name
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	return p
}

func (p *prober) now() time.Time {
	if p.opts.Now != nil {
		return p.opts.Now()
	}
	return time.Now()
}

func (p *prober) handshake(ctx context.Context) (*tls.Conn, error) {
	raw, err := p.dial(ctx)
	if err != nil {
		return nil, p.dialError(ctx, err)
	}
	if err := p.upgrade(ctx, raw); err != nil {
		raw.Close()
		return nil, err
	}
	conn := tls.Client(raw, p.config())
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, p.handshakeError(ctx, err)
	}
	return conn, nil
}

func (p *prober) dial(ctx context.Context) (net.Conn, error) {
	if p.opts.DialContext != nil {
		return p.opts.DialContext(ctx, "tcp", p.addr)
	}
	var direct *outbound.Dialer // nil: no policy, see Options.DialContext
	return direct.DialContext(ctx, "tcp", p.addr)
}

// config offers everything Go can speak; see TLS for why nothing is
// verified.
func (p *prober) config() *tls.Config {
	cfg := &tls.Config{
		ServerName:         p.sni,
		InsecureSkipVerify: true, // observe, never trust: package trust judges the chain
		MinVersion:         tls.VersionTLS10,
		CipherSuites:       allSuites(),
	}
	if p.opts.ClientCertificate != nil {
		cfg.Certificates = []tls.Certificate{*p.opts.ClientCertificate}
	}
	return cfg
}

// allSuites lists the TLS 1.0-1.2 suites Go implements, secure first (TLS
// 1.3 suites are not configurable, RFC 8446 section 9.1).
func allSuites() []uint16 {
	var ids []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ids = append(ids, s.ID)
	}
	return ids
}

func (p *prober) result(st tls.ConnectionState, d time.Duration) *Result {
	return &Result{
		Address:     p.addr,
		ServerName:  p.name,
		Version:     tls.VersionName(st.Version),
		CipherSuite: tls.CipherSuiteName(st.CipherSuite),
		Chain:       st.PeerCertificates,
		Duration:    d,
		StartTLS:    p.startTLS,
		OCSPStaple:  st.OCSPResponse,
	}
}

// upgrade runs the STARTTLS dialogue, if any, on raw; it ends with ctx.
func (p *prober) upgrade(ctx context.Context, raw net.Conn) error {
	if p.startTLS == StartTLSNone {
		return nil
	}
	deadline, _ := ctx.Deadline() // set: TLS bounds ctx with the timeout
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Now()) })
	err := upgraderFor(p.startTLS)(raw, p.name, deadline)
	if !stop() {
		return p.startTLSError(ctx, err)
	}
	_ = raw.SetDeadline(time.Time{})
	if err != nil {
		return p.startTLSError(ctx, err)
	}
	return nil
}
