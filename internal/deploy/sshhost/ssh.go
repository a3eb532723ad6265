// Package sshhost is an SSH server as an engine.Host: files go through
// SFTP and commands through sessions, over one connection per Host. Every
// operation honours its context (the connection is closed when it ends
// first), and a server that stops answering is declared dead: each read
// and write of the connection must make progress within an idle timeout,
// and keepalives keep a healthy but quiet connection alive and detect a
// silent one. The deploy service dials one for each install to an SSH
// target; `certkeeper target scan` uses ScanHostKey.
package sshhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// defaultTimeout bounds connecting and authenticating when
// Config.Timeout is zero.
const defaultTimeout = 30 * time.Second

// Config is how to reach an SSH host.
type Config struct {
	// Access names the server, the user and the pinned host key
	// (required: a server presenting another key is refused).
	Access inventory.SSHAccess
	// Password authenticates when PrivateKey is empty; with an encrypted
	// PrivateKey it is the key's passphrase.
	Password string
	// PrivateKey is an OpenSSH or PEM private key.
	PrivateKey []byte
	// Timeout bounds connecting and authenticating; zero means 30
	// seconds.
	Timeout time.Duration
	// IdleTimeout bounds how long the server may send nothing, take
	// nothing sent to it, or leave a keepalive unanswered; past it the
	// server is declared dead (ErrStalled) and the connection closed.
	// Zero means 60 seconds.
	IdleTimeout time.Duration
	// KeepaliveInterval is how often a keepalive@openssh.com request is
	// sent, so that a quiet connection (a long command) carries data;
	// zero means a third of IdleTimeout.
	KeepaliveInterval time.Duration
	// Outbound carries the connection under the outbound policy; nil
	// connects directly (commands an operator runs for themself).
	Outbound *outbound.Dialer
}

// Host is an engine.Host over SSH: files go through SFTP (atomic replace
// with the posix-rename@openssh.com extension), commands through sessions
// run by the user's shell. It is safe for concurrent use.
type Host struct {
	name   string
	client *ssh.Client
	sftp   *sftp.Client
	// cause is why the connection was closed under its users.
	cause *liveness
	// done ends the keepalives; closing closes it once.
	done    chan struct{}
	closing sync.Once
}

var (
	_ engine.Host       = (*Host)(nil)
	_ engine.FolderHost = (*Host)(nil)
)

// Dial connects to c.Access, checks that the server presents the
// pinned host key, authenticates and opens SFTP. The caller closes the
// host.
func Dial(ctx context.Context, c Config) (*Host, error) {
	addr := sshAddr(c.Access)
	conf, err := c.clientConfig(addr)
	if err != nil {
		return nil, err
	}
	cause := &liveness{}
	client, err := dialSSH(ctx, c.Outbound, addr, conf, c.timeout(), c.idleTimeout(), cause)
	if err != nil {
		return nil, fmt.Errorf("deploy: ssh %s: %w", addr, err)
	}
	h := &Host{name: "ssh " + c.Access.User + "@" + addr, client: client, cause: cause, done: make(chan struct{})}
	go h.keepalive(c.keepaliveInterval(), c.idleTimeout())
	if err := h.openSFTP(ctx, c.timeout()); err != nil {
		h.Close()
		return nil, fmt.Errorf("deploy: ssh %s: sftp: %w", addr, err)
	}
	return h, nil
}

// openSFTP starts the SFTP session within timeout.
func (h *Host) openSFTP(ctx context.Context, timeout time.Duration) error {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return h.guard(tctx, func() (err error) {
		h.sftp, err = sftp.NewClient(h.client)
		return err
	})
}

func sshAddr(a inventory.SSHAccess) string {
	port := a.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(a.Host, strconv.Itoa(port))
}

func (c Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return defaultTimeout
	}
	return c.Timeout
}

func (c Config) idleTimeout() time.Duration {
	if c.IdleTimeout <= 0 {
		return defaultIdleTimeout
	}
	return c.IdleTimeout
}

func (c Config) keepaliveInterval() time.Duration {
	if c.KeepaliveInterval <= 0 {
		return c.idleTimeout() / 3
	}
	return c.KeepaliveInterval
}

// clientConfig builds the authentication and the host key check.
func (c Config) clientConfig(addr string) (*ssh.ClientConfig, error) {
	pinned, err := parseHostKey(c.Access.HostKey)
	if err != nil {
		return nil, fmt.Errorf("deploy: ssh %s: %w", addr, err)
	}
	auth, err := c.auth()
	if err != nil {
		return nil, fmt.Errorf("deploy: ssh %s: %w", addr, err)
	}
	return &ssh.ClientConfig{
		User:              c.Access.User,
		Auth:              auth,
		HostKeyCallback:   pinnedHostKey(pinned),
		HostKeyAlgorithms: hostKeyAlgorithms(pinned),
		Timeout:           c.timeout(),
	}, nil
}

func parseHostKey(line string) (ssh.PublicKey, error) {
	if strings.TrimSpace(line) == "" {
		return nil, errors.New("no pinned host key (scan the server's key and trust it first)")
	}
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, fmt.Errorf("pinned host key: %w", err)
	}
	return key, nil
}

// auth returns the private key method, or the password methods.
func (c Config) auth() ([]ssh.AuthMethod, error) {
	if len(c.PrivateKey) > 0 {
		signer, err := parsePrivateKey(c.PrivateKey, c.Password)
		if err != nil {
			return nil, err
		}
		return []ssh.AuthMethod{ssh.PublicKeys(signer)}, nil
	}
	if c.Password == "" {
		return nil, errors.New("neither a private key nor a password to log in with")
	}
	answer := func(_, _ string, questions []string, _ []bool) ([]string, error) {
		answers := make([]string, len(questions))
		for i := range answers {
			answers[i] = c.Password
		}
		return answers, nil
	}
	return []ssh.AuthMethod{ssh.Password(c.Password), ssh.KeyboardInteractive(answer)}, nil
}

func parsePrivateKey(pemBytes []byte, passphrase string) (ssh.Signer, error) {
	signer, err := ssh.ParsePrivateKey(pemBytes)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if passphrase == "" {
			return nil, errors.New("the private key is encrypted and no passphrase is set")
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pemBytes, []byte(passphrase))
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return signer, nil
}

// pinnedHostKey accepts the pinned key only.
func pinnedHostKey(pinned ssh.PublicKey) ssh.HostKeyCallback {
	return func(_ string, _ net.Addr, key ssh.PublicKey) error {
		if bytes.Equal(key.Marshal(), pinned.Marshal()) {
			return nil
		}
		return fmt.Errorf("host key mismatch: the server presents %s %s, the pinned key is %s %s",
			key.Type(), ssh.FingerprintSHA256(key), pinned.Type(), ssh.FingerprintSHA256(pinned))
	}
}

// hostKeyAlgorithms asks the server for a key of the pinned key's type,
// so that a server with several host keys presents the pinned one.
func hostKeyAlgorithms(pinned ssh.PublicKey) []string {
	if pinned.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{pinned.Type()}
}

// dialSSH connects through d and runs the handshake within timeout,
// giving up early when ctx ends. The connection is an idleConn: once
// established, every read and write must make progress within idle.
func dialSSH(ctx context.Context, d *outbound.Dialer, addr string, conf *ssh.ClientConfig, timeout, idle time.Duration,
	cause *liveness) (*ssh.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	raw, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(dctx, func() { raw.Close() })
	c, chans, reqs, err := ssh.NewClientConn(&idleConn{Conn: raw, idle: idle, cause: cause}, addr, conf)
	if !stop() {
		err = errors.Join(err, dctx.Err())
	}
	if err != nil {
		raw.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if dctx.Err() != nil {
			return nil, fmt.Errorf("no login within %s: %w", timeout, err)
		}
		return nil, err
	}
	return ssh.NewClient(c, chans, reqs), nil
}

// errScanned stops the handshake of ScanHostKey once the key is known.
var errScanned = errors.New("host key scanned")

// ScanHostKey connects to addr ("host:port") and returns the host key the
// server presents, as an authorized_keys line, without logging in. The
// caller decides whether to trust it ("trust on first use"); the
// connection proves nothing about who answered. It connects directly:
// the command line scans from the operator's own machine.
func ScanHostKey(ctx context.Context, addr string, timeout time.Duration) (string, error) {
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	var presented ssh.PublicKey
	conf := &ssh.ClientConfig{User: "certkeeper", Timeout: timeout,
		HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			presented = key
			return errScanned
		}}
	c, err := dialSSH(ctx, nil, addr, conf, timeout, timeout, &liveness{})
	if err == nil {
		c.Close()
	}
	if presented == nil {
		return "", fmt.Errorf("deploy: ssh %s: scan host key: %w", addr, err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(presented))), nil
}
