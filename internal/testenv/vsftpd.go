package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// StartVsftpd starts a real vsftpd in the foreground (listen=YES,
// background=NO) on 127.0.0.1:PORT answering AUTH TLS (RFC 4217) with a
// certificate the test made. Every login is refused: it serves only the
// greeting and the upgrade. It needs root (vsftpd chroots its unprivileged
// half into a directory of the test's own). It returns once the port
// accepts connections and stops vsftpd when the test ends. It skips, or
// fails in strict mode, without vsftpd (Debian's vsftpd) or as another
// user.
func StartVsftpd(t testing.TB) *STARTTLSServer {
	t.Helper()
	return startVsftpd(t, true)
}

// StartVsftpdWithoutTLS is StartVsftpd with ssl_enable=NO: AUTH TLS is
// refused. Its Cert is not served.
func StartVsftpdWithoutTLS(t testing.TB) *STARTTLSServer {
	t.Helper()
	return startVsftpd(t, false)
}

func startVsftpd(t testing.TB, tls bool) *STARTTLSServer {
	t.Helper()
	bin := Command(t, "vsftpd")
	if os.Geteuid() != 0 {
		Missing(t, "root, to run vsftpd")
	}
	s := newSTARTTLSServer(t, "vsftpd", "")
	s.Addr = FreeAddr(t)
	// vsftpd refuses a secure_chroot_dir its unprivileged user could write.
	if err := os.Mkdir(s.path("empty"), 0o555); err != nil {
		t.Fatal(err)
	}
	// vsftpd needs some login enabled; an empty allow list refuses every
	// user before a password is asked for.
	writeFile(t, s.path("users"), nil, 0o644)
	s.logs = []string{s.path("vsftpd.log")}
	conf := s.path("vsftpd.conf")
	writeFile(t, conf, []byte(vsftpdConfig(s, tls)), 0o600)
	s.runServer(t, "vsftpd", exec.Command(bin, conf))
	return s
}

func vsftpdConfig(s *STARTTLSServer, tls bool) string {
	_, port, _ := strings.Cut(s.Addr, ":")
	enable := map[bool]string{true: "YES", false: "NO"}[tls]
	return fmt.Sprintf(`listen=YES
listen_ipv6=NO
background=NO
listen_address=127.0.0.1
listen_port=%[2]s
anonymous_enable=NO
local_enable=YES
userlist_enable=YES
userlist_deny=NO
userlist_file=%[1]s/users
write_enable=NO
pasv_enable=NO
port_enable=NO
xferlog_enable=NO
log_ftp_protocol=YES
vsftpd_log_file=%[1]s/vsftpd.log
secure_chroot_dir=%[1]s/empty
pam_service_name=vsftpd
ssl_enable=%[3]s
rsa_cert_file=%[1]s/cert.pem
rsa_private_key_file=%[1]s/key.pem
`, s.Dir, port, enable)
}
