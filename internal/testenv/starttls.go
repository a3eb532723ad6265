package testenv

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// STARTTLSServer is a real server a test started that speaks TLS after a
// plain-text upgrade (SMTP's STARTTLS, PostgreSQL's SSLRequest ...), on
// 127.0.0.1 with its own configuration and data in a directory of its
// own (never the system's service). It serves Cert, which the test made.
type STARTTLSServer struct {
	// Addr is the plain-text listener, "127.0.0.1:PORT".
	Addr string
	// Cert is the certificate the server presents after the upgrade.
	Cert *x509.Certificate
	// Dir holds the configuration, data, certificate and logs.
	Dir string

	out  *lockedBuffer
	logs []string // files the server logs to, besides out
}

// Log returns what the server wrote so far.
func (s *STARTTLSServer) Log() string {
	text := s.out.String()
	for _, f := range s.logs {
		data, _ := os.ReadFile(f)
		text += string(data)
	}
	return text
}

// newSTARTTLSServer makes the server's directory, world-searchable so that
// servers dropping to their own account reach it (t.TempDir's parent is
// not), removed when the test ends, and its certificate and key (cert.pem,
// key.pem), the key owned by owner when set.
func newSTARTTLSServer(t testing.TB, name, owner string) *STARTTLSServer {
	t.Helper()
	dir, err := os.MkdirTemp("", "certkeeper-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &STARTTLSServer{Dir: dir, out: &lockedBuffer{}}
	cert, _ := SelfSignedCert(t)
	s.Cert = cert.Leaf
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, s.path("cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644)
	writeFile(t, s.path("key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	if owner != "" {
		chownTo(t, s.path("key.pem"), owner)
	}
	return s
}

func (s *STARTTLSServer) path(name string) string { return filepath.Join(s.Dir, name) }

// account returns the IDs of a system account the server's package
// created, or skips (fails in strict mode) when it does not exist.
func account(t testing.TB, name string) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		Missing(t, "account %q (created by its Debian package)", name)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

func chownTo(t testing.TB, path, owner string) {
	t.Helper()
	uid, gid := account(t, owner)
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatalf("testenv: %v", err)
	}
}

// asUser runs cmd as the account name (the server refuses to run as root).
func asUser(t testing.TB, cmd *exec.Cmd, name string) *exec.Cmd {
	t.Helper()
	uid, gid := account(t, name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	return cmd
}

// waitTCP returns once addr accepts connections, and fails the test when
// p exits first or after timeout.
func waitTCP(t testing.TB, what string, p *process, addr string, timeout time.Duration, log func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if p.exited() {
			t.Fatalf("testenv: %s exited: %s", what, log())
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: %s does not listen on %s after %s: %s", what, addr, timeout, log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runServer starts cmd as the test's server, stopped in t.Cleanup, and
// waits until addr accepts connections.
func (s *STARTTLSServer) runServer(t testing.TB, what string, cmd *exec.Cmd) *process {
	t.Helper()
	p, err := startCommand(cmd, s.out)
	if err != nil {
		t.Fatalf("testenv: start %s: %v", what, err)
	}
	t.Cleanup(p.stop)
	waitTCP(t, what, p, s.Addr, 15*time.Second, s.Log)
	return p
}
