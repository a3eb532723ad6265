package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// StartPostfix starts a real Postfix (postfix -c DIR start) whose
// configuration directory, queue and data directory are the test's own,
// with one smtpd on 127.0.0.1:PORT offering STARTTLS with a certificate
// the test made. It needs root (Postfix's daemons drop to the postfix
// account). It returns once the port accepts connections and stops
// Postfix when the test ends. It skips, or fails in strict
// mode, without postfix (Debian's postfix) or as another user.
func StartPostfix(t testing.TB) *STARTTLSServer {
	t.Helper()
	bin := Command(t, "postfix")
	if os.Geteuid() != 0 {
		Missing(t, "root, to run postfix")
	}
	s := newSTARTTLSServer(t, "postfix", "")
	s.Addr = FreeAddr(t)
	for _, d := range []string{"conf", "queue", "data"} {
		if err := os.Mkdir(s.path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	chownTo(t, s.path("data"), "postfix")
	s.logs = []string{s.path("postfix.log")}
	writeFile(t, s.path("conf/main.cf"), []byte(postfixMain(s)), 0o644)
	writeFile(t, s.path("conf/master.cf"), []byte(postfixMaster(s.Addr)), 0o644)
	// Postfix's master daemonizes into a session of its own, out of
	// reach of a process group: start and stop it with its own command.
	postfix := func(cmd string) ([]byte, error) { return exec.Command(bin, "-c", s.path("conf"), cmd).CombinedOutput() }
	if out, err := postfix("start"); err != nil {
		t.Fatalf("testenv: postfix start: %v\n%s%s", err, out, s.Log())
	}
	t.Cleanup(func() { stopPostfix(s.Addr, postfix) })
	waitListening(t, "postfix", s.Addr, 15*time.Second, s.Log)
	return s
}

// stopPostfix stops the master and waits, at most 10 seconds, until its
// smtpd no longer listens.
func stopPostfix(addr string, postfix func(string) ([]byte, error)) {
	_, _ = postfix("stop")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
	}
	_, _ = postfix("abort")
}

// waitListening returns once addr accepts connections, and fails the
// test after timeout.
func waitListening(t testing.TB, what, addr string, timeout time.Duration, log func() string) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: %s does not listen on %s after %s: %s", what, addr, timeout, log())
		}
	}
}

func postfixMain(s *STARTTLSServer) string {
	return fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.certkeeper.test
mydestination =
maillog_file_prefixes = %[1]s
maillog_file = %[1]s/postfix.log
smtpd_tls_security_level = may
smtpd_tls_cert_file = %[1]s/cert.pem
smtpd_tls_key_file = %[1]s/key.pem
`, s.Dir)
}

// postfixMaster lists the smtpd on addr and the services it talks to,
// none chrooted.
func postfixMaster(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	return host + ":" + port + ` inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
proxymap  unix  - - n - - proxymap
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`
}
