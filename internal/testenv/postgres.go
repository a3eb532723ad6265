package testenv

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
)

// StartPostgresTLS starts a real PostgreSQL of its own (initdb, then
// postgres in the foreground) on 127.0.0.1 with ssl=on and a certificate
// the test made, apart from the shared server PostgresDSN uses. As root it
// runs as the postgres account. It returns once the port accepts
// connections and stops the server when the test ends. It skips, or fails
// in strict mode, without PostgreSQL (Debian's postgresql).
func StartPostgresTLS(t testing.TB) *STARTTLSServer {
	t.Helper()
	bin := postgresBin(t)
	owner := ""
	if os.Geteuid() == 0 {
		owner = "postgres"
	}
	s := newSTARTTLSServer(t, "postgres", owner)
	s.Addr = FreeAddr(t)
	host, port, _ := net.SplitHostPort(s.Addr)
	data := s.path("data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "--no-instructions")
	if owner != "" {
		chownTo(t, s.Dir, owner)
		asUser(t, initdb, owner)
	}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("testenv: initdb: %v\n%s", err, out)
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-c", "listen_addresses="+host, "-p", port,
		"-k", s.Dir, "-c", "fsync=off", "-c", "ssl=on",
		"-c", "ssl_cert_file="+s.path("cert.pem"), "-c", "ssl_key_file="+s.path("key.pem"))
	if owner != "" {
		asUser(t, cmd, owner)
	}
	s.runServer(t, "postgres", cmd)
	return s
}

// postgresBin is the newest /usr/lib/postgresql/VERSION/bin holding
// initdb (Debian's layout), or postgres's directory in PATH.
func postgresBin(t testing.TB) string {
	t.Helper()
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Strings(found)
	if len(found) > 0 {
		return filepath.Dir(found[len(found)-1])
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	Missing(t, "PostgreSQL's initdb (Debian's postgresql)")
	return ""
}
