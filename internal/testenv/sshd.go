package testenv

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHD is a real OpenSSH server started by a test on 127.0.0.1, with its
// own configuration, host key and authorized_keys, and an SFTP subsystem.
type SSHD struct {
	// Addr is the server's address, 127.0.0.1:PORT.
	Addr string
	// User is the account to log in as: the current user (root as root).
	User string
	// HostKey is the server's ed25519 host key as an authorized_keys line.
	HostKey string
	// ClientKey is an OpenSSH private key (PEM) the server accepts for User.
	ClientKey []byte
	// Dir holds the configuration, keys, pid file and log.
	Dir string

	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

// StartSSHD starts sshd in the foreground (-D -e) with key authentication
// only, and returns once it answers with its SSH banner. It is stopped
// when the test ends. It skips, or fails in strict mode, without sshd.
func StartSSHD(t testing.TB) *SSHD {
	t.Helper()
	bin := Command(t, "sshd")
	if !filepath.IsAbs(bin) {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		bin = abs
	}
	ensurePrivsepDir(t)
	s := &SSHD{Dir: t.TempDir(), User: currentUser(t), out: &lockedBuffer{}, done: make(chan struct{})}
	s.writeKeys(t)
	s.Addr = FreeAddr(t)
	writeFile(t, filepath.Join(s.Dir, "sshd_config"), []byte(s.config()), 0o600)
	s.start(t, bin)
	s.waitReady(t)
	return s
}

// Log returns what sshd wrote to stderr so far.
func (s *SSHD) Log() string { return s.out.String() }

func (s *SSHD) writeKeys(t testing.TB) {
	t.Helper()
	hostPEM, hostPub := newEd25519(t, "certkeeper test host")
	writeFile(t, filepath.Join(s.Dir, "host_ed25519"), hostPEM, 0o600)
	s.HostKey = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hostPub)))
	clientPEM, clientPub := newEd25519(t, "certkeeper test client")
	writeFile(t, filepath.Join(s.Dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o600)
	s.ClientKey = clientPEM
}

func newEd25519(t testing.TB, comment string) ([]byte, ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), sshPub
}

func (s *SSHD) config() string {
	host, port, _ := net.SplitHostPort(s.Addr)
	return strings.Join([]string{
		"Port " + port,
		"ListenAddress " + host,
		"HostKey " + filepath.Join(s.Dir, "host_ed25519"),
		"AuthorizedKeysFile " + filepath.Join(s.Dir, "authorized_keys"),
		"PidFile " + filepath.Join(s.Dir, "sshd.pid"),
		"StrictModes no",
		"UsePAM no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PubkeyAuthentication yes",
		"PermitRootLogin prohibit-password",
		"AllowUsers " + s.User,
		"Subsystem sftp internal-sftp",
		"LogLevel ERROR",
		// bash sources ~/.bashrc for commands run by sshd unless it is a
		// nested shell; a slow .bashrc would make every command slow.
		"SetEnv SHLVL=1",
		"",
	}, "\n")
}

func (s *SSHD) start(t testing.TB, bin string) {
	t.Helper()
	s.cmd = exec.Command(bin, "-D", "-e", "-f", filepath.Join(s.Dir, "sshd_config"))
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("testenv: start sshd: %v", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

func (s *SSHD) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !sshAnswers(s.Addr) {
		select {
		case <-s.done:
			t.Fatalf("testenv: sshd exited: %s", s.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: sshd does not answer on %s: %s", s.Addr, s.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sshAnswers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-2.0-")
}

// ensurePrivsepDir creates /run/sshd, which sshd running as root
// requires, when it is missing.
func ensurePrivsepDir(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("testenv: create /run/sshd: %v", err)
	}
}

func currentUser(t testing.TB) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatalf("testenv: current user: %v", err)
	}
	if u.Username == "" {
		t.Fatalf("testenv: current user %s has no name", u.Uid)
	}
	return u.Username
}
