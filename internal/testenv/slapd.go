package testenv

import (
	"fmt"
	"os/exec"
	"testing"
)

// StartSlapd starts a real OpenLDAP slapd in the foreground (-d 0) with no
// database, listening on ldap://127.0.0.1:PORT and answering the StartTLS
// extended operation with a certificate the test made. It returns once
// the port accepts connections and stops slapd when the test ends. It
// skips, or fails in strict mode, without slapd (Debian's slapd).
func StartSlapd(t testing.TB) *STARTTLSServer {
	t.Helper()
	bin := Command(t, "slapd")
	s := newSTARTTLSServer(t, "slapd", "")
	s.Addr = FreeAddr(t)
	conf := s.path("slapd.conf")
	writeFile(t, conf, []byte(fmt.Sprintf("pidfile %[1]s/slapd.pid\nargsfile %[1]s/slapd.args\n"+
		"TLSCertificateFile %[1]s/cert.pem\nTLSCertificateKeyFile %[1]s/key.pem\n", s.Dir)), 0o644)
	s.runServer(t, "slapd", exec.Command(bin, "-d", "0", "-f", conf, "-h", "ldap://"+s.Addr+"/"))
	return s
}
