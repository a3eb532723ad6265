package testenv

import (
	"fmt"
	"net"
	"os/exec"
	"testing"
	"time"
)

// StartDovecot starts a real Dovecot in the foreground (-F) with IMAP and
// POP3 listeners on 127.0.0.1 offering STARTTLS (and STLS) with a
// certificate the test made, and returns them (sharing one process and
// directory) once both accept connections. It is stopped when the test
// ends. It skips, or fails in strict mode, without dovecot (Debian's
// dovecot-imapd and dovecot-pop3d).
func StartDovecot(t testing.TB) (imap, pop3 *STARTTLSServer) {
	t.Helper()
	bin := Command(t, "dovecot")
	imap = newSTARTTLSServer(t, "dovecot", "")
	imap.Addr = FreeAddr(t)
	pop3 = &STARTTLSServer{Addr: FreeAddr(t), Cert: imap.Cert, Dir: imap.Dir, out: imap.out}
	conf := imap.path("dovecot.conf")
	writeFile(t, conf, []byte(dovecotConfig(imap, pop3.Addr)), 0o644)
	p := imap.runServer(t, "dovecot", exec.Command(bin, "-F", "-c", conf))
	waitTCP(t, "dovecot (POP3)", p, pop3.Addr, 15*time.Second, imap.Log)
	return imap, pop3
}

func dovecotConfig(s *STARTTLSServer, pop3Addr string) string {
	imapHost, imapPort, _ := net.SplitHostPort(s.Addr)
	popHost, popPort, _ := net.SplitHostPort(pop3Addr)
	return fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = /dev/stderr
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
passdb {
  driver = static
  args = password=unused
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=/nonexistent
}
service imap-login {
  inet_listener imap {
    address = %[2]s
    port = %[3]s
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    address = %[4]s
    port = %[5]s
  }
  inet_listener pop3s {
    port = 0
  }
}
`, s.Dir, imapHost, imapPort, popHost, popPort)
}
