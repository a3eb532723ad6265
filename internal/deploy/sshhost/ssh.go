package sshhost

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"strconv"
	"strings"
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
	// Outbound carries the connection under the outbound policy; nil
	// connects directly (commands an operator runs for themself).
	Outbound *outbound.Dialer
}

// Host is a Host over SSH: files go through SFTP (atomic replace with
// the posix-rename@openssh.com extension), commands through sessions run
// by the user's shell.
type Host struct {
	name   string
	client *ssh.Client
	sftp   *sftp.Client
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
	client, err := dialSSH(ctx, c.Outbound, addr, conf, c.timeout())
	if err != nil {
		return nil, fmt.Errorf("deploy: ssh %s: %w", addr, err)
	}
	sc, err := sftp.NewClient(client)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("deploy: ssh %s: sftp: %w", addr, err)
	}
	return &Host{name: "ssh " + c.Access.User + "@" + addr, client: client, sftp: sc}, nil
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
// giving up early when ctx ends.
func dialSSH(ctx context.Context, d *outbound.Dialer, addr string, conf *ssh.ClientConfig, timeout time.Duration) (*ssh.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	conn, err := d.DialContext(dctx, "tcp", addr)
	cancel()
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, conf)
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
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
	c, err := dialSSH(ctx, nil, addr, conf, timeout)
	if err == nil {
		c.Close()
	}
	if presented == nil {
		return "", fmt.Errorf("deploy: ssh %s: scan host key: %w", addr, err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(presented))), nil
}

// String names the host: "ssh user@host:port".
func (h *Host) String() string { return h.name }

// Close ends the SFTP session and the connection.
func (h *Host) Close() error {
	err := h.sftp.Close()
	if cerr := h.client.Close(); err == nil {
		err = cerr
	}
	return err
}

// ReadFile returns a regular file's content and permission bits.
func (h *Host) ReadFile(_ context.Context, name string) ([]byte, fs.FileMode, error) {
	f, err := h.sftp.Open(name)
	if err != nil {
		return nil, 0, pathError("open", name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, pathError("stat", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s is not a regular file", name)
	}
	data, err := io.ReadAll(io.LimitReader(f, engine.MaxFileSize+1))
	if err == nil && len(data) > engine.MaxFileSize {
		err = fmt.Errorf("%s is larger than %d bytes", name, engine.MaxFileSize)
	}
	return data, fi.Mode().Perm(), err
}

// pathError names the file in an SFTP error, keeping it inspectable
// (errors.Is(err, fs.ErrNotExist)).
func pathError(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// WriteFile replaces name atomically: a temporary file in the same
// directory gets mode, then owner (chown over a session), then data, and
// is renamed over name with posix-rename.
func (h *Host) WriteFile(ctx context.Context, name string, data []byte, mode fs.FileMode, owner string) error {
	if err := h.MkdirAll(ctx, path.Dir(name)); err != nil {
		return err
	}
	tmp, err := tempName(name)
	if err != nil {
		return err
	}
	if err := h.writeTemp(ctx, tmp, data, mode, owner); err != nil {
		_ = h.sftp.Remove(tmp) // the write failed already; this is cleanup
		return err
	}
	if err := h.sftp.PosixRename(tmp, name); err != nil {
		_ = h.sftp.Remove(tmp)
		return pathError("rename", name, err)
	}
	return nil
}

func tempName(name string) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return path.Join(path.Dir(name), "."+path.Base(name)+".certkeeper-"+hex.EncodeToString(b)+".tmp"), nil
}

func (h *Host) writeTemp(ctx context.Context, tmp string, data []byte, mode fs.FileMode, owner string) error {
	f, err := h.sftp.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return pathError("create", tmp, err)
	}
	err = h.fillTemp(ctx, f, tmp, data, mode, owner)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = pathError("close", tmp, cerr)
	}
	return err
}

func (h *Host) fillTemp(ctx context.Context, f *sftp.File, tmp string, data []byte, mode fs.FileMode, owner string) error {
	if err := f.Chmod(mode); err != nil {
		return pathError("chmod", tmp, err)
	}
	if owner != "" {
		if err := h.chown(ctx, tmp, owner); err != nil {
			return err
		}
	}
	if _, err := f.Write(data); err != nil {
		return pathError("write", tmp, err)
	}
	return syncFile(f, tmp)
}

// syncFile flushes f when the server has the fsync@openssh.com extension.
func syncFile(f *sftp.File, name string) error {
	err := f.Sync()
	var se *sftp.StatusError
	if err == nil || errors.As(err, &se) && se.FxCode() == sftp.ErrSSHFxOpUnsupported {
		return nil
	}
	return pathError("sync", name, err)
}

// chown runs chown on the server: SFTP takes numeric ids only, and the
// names are the server's.
func (h *Host) chown(ctx context.Context, name, owner string) error {
	if strings.HasPrefix(owner, "-") {
		return fmt.Errorf("owner %q: must not start with -", owner)
	}
	out, err := h.Run(ctx, "chown "+engine.ShellQuote(owner)+" "+engine.ShellQuote(name), engine.DefaultCommandTimeout)
	if err != nil {
		return fmt.Errorf("chown %s %s: %v: %s", owner, name, err, engine.LastLine(out))
	}
	return nil
}

// Remove deletes a file; a missing one is not an error.
func (h *Host) Remove(_ context.Context, name string) error {
	if err := h.sftp.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return pathError("remove", name, err)
	}
	return nil
}

// Mkdir creates one folder with mode 0700 (backups hold private keys).
func (h *Host) Mkdir(_ context.Context, name string) error {
	if _, err := h.sftp.Lstat(name); err == nil {
		return pathError("mkdir", name, fs.ErrExist)
	}
	if err := h.sftp.Mkdir(name); err != nil {
		return pathError("mkdir", name, err)
	}
	if err := h.sftp.Chmod(name, 0o700); err != nil {
		return pathError("chmod", name, err)
	}
	return nil
}

// MkdirAll creates name and its missing parents with mode 0755.
func (h *Host) MkdirAll(ctx context.Context, name string) error {
	fi, err := h.sftp.Stat(name)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return fmt.Errorf("%s is not a directory", name)
	case !errors.Is(err, fs.ErrNotExist):
		return pathError("stat", name, err)
	}
	if parent := path.Dir(name); parent != name {
		if err := h.MkdirAll(ctx, parent); err != nil {
			return err
		}
	}
	if err := h.sftp.Mkdir(name); err != nil {
		return pathError("mkdir", name, err)
	}
	if err := h.sftp.Chmod(name, 0o755); err != nil {
		return pathError("chmod", name, err)
	}
	return nil
}

// ReadDir returns the names in a folder.
func (h *Host) ReadDir(_ context.Context, name string) ([]string, error) {
	infos, err := h.sftp.ReadDir(name)
	if err != nil {
		return nil, pathError("readdir", name, err)
	}
	names := make([]string, len(infos))
	for i, fi := range infos {
		names[i] = fi.Name()
	}
	return names, nil
}

// RemoveAll deletes name and everything under it, without following
// symbolic links.
func (h *Host) RemoveAll(_ context.Context, name string) error {
	if err := h.sftp.RemoveAll(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return pathError("remove", name, err)
	}
	return nil
}

// Run runs command in a session (the user's shell, home directory)
// within timeout; when it passes, the command is sent SIGKILL and the
// session closed, and Run returns without waiting for the command.
func (h *Host) Run(ctx context.Context, command string, timeout time.Duration) (string, error) {
	timeout = engine.CommandTimeout(timeout)
	s, err := h.client.NewSession()
	if err != nil {
		return "", fmt.Errorf("ssh session: %w", err)
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
