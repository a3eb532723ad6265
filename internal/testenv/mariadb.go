package testenv

import (
	"net"
	"os"
	"os/exec"
	"testing"
)

// StartMariaDB starts a real MariaDB server (mariadbd) in the foreground
// on 127.0.0.1 with an empty data directory of its own, no grant tables
// (nobody logs in: the tests only upgrade to TLS) and a certificate the
// test made. It returns once the port accepts connections and stops the
// server when the test ends. It skips, or fails in strict mode, without
// mariadbd (Debian's mariadb-server).
func StartMariaDB(t testing.TB) *STARTTLSServer {
	t.Helper()
	bin := Command(t, "mariadbd")
	s := newSTARTTLSServer(t, "mariadb", "")
	s.Addr = FreeAddr(t)
	_, port, _ := net.SplitHostPort(s.Addr)
	if err := os.Mkdir(s.path("data"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.logs = []string{s.path("error.log")}
	args := []string{"--no-defaults", "--datadir=" + s.path("data"), "--user=root",
		"--bind-address=127.0.0.1", "--port=" + port, "--socket=" + s.path("mysqld.sock"),
		"--pid-file=" + s.path("mysqld.pid"), "--log-error=" + s.path("error.log"),
		"--skip-grant-tables", "--skip-log-bin", "--innodb-buffer-pool-size=8M",
		"--ssl-cert=" + s.path("cert.pem"), "--ssl-key=" + s.path("key.pem")}
	if os.Geteuid() != 0 {
		args[2] = "--user=" + currentUser(t)
	}
	s.runServer(t, "mariadbd", exec.Command(bin, args...))
	return s
}
