package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// ProsodyDomain is the XMPP domain of the VirtualHost StartProsody
// configures; a client names it in its stream header.
const ProsodyDomain = "localhost"

// StartProsody starts a real Prosody XMPP server in the foreground (-F)
// with one VirtualHost, ProsodyDomain, and a single listener: c2s on
// 127.0.0.1:PORT offering <starttls/> in its stream features with a
// certificate the test made (encryption optional). Server-to-server,
// HTTP, components and direct TLS listen nowhere; its data lives in the
// test's directory, and mod_posix (daemonizing, pid file) is off. It runs as the prosody account, so it needs
// root. It returns once the port accepts connections and stops Prosody
// when the test ends. It skips, or fails in strict mode, without prosody
// (Debian's prosody) or as another user.
func StartProsody(t testing.TB) *STARTTLSServer {
	t.Helper()
	return startProsody(t, true)
}

// StartProsodyWithoutTLS is StartProsody with mod_tls disabled: the stream
// features do not offer <starttls/>. Its Cert is not served.
func StartProsodyWithoutTLS(t testing.TB) *STARTTLSServer {
	t.Helper()
	return startProsody(t, false)
}

func startProsody(t testing.TB, tls bool) *STARTTLSServer {
	t.Helper()
	bin := Command(t, "prosody")
	if os.Geteuid() != 0 {
		Missing(t, "root, to run prosody as its own account")
	}
	s := newSTARTTLSServer(t, "prosody", "prosody")
	s.Addr = FreeAddr(t)
	if err := os.Mkdir(s.path("data"), 0o750); err != nil {
		t.Fatal(err)
	}
	chownTo(t, s.path("data"), "prosody")
	conf := s.path("prosody.cfg.lua")
	writeFile(t, conf, []byte(prosodyConfig(s, tls)), 0o644)
	s.runServer(t, "prosody", asUser(t, exec.Command(bin, "-F", "--config", conf), "prosody"))
	return s
}

func prosodyConfig(s *STARTTLSServer, tls bool) string {
	_, port, _ := strings.Cut(s.Addr, ":")
	// mod_saslauth gives an unencrypted stream a feature to offer
	// (SCRAM): with none, Prosody closes it with a stream error.
	enabled, disabled := `"saslauth", "tls"`, ""
	if !tls {
		enabled, disabled = `"saslauth"`, `, "tls"`
	}
	return fmt.Sprintf(`data_path = %[1]q
certificates = %[2]q
daemonize = false
log = { { levels = { min = "info" }, to = "console" } }
modules_enabled = { %[3]s }
modules_disabled = { "s2s", "http", "admin_shell", "posix"%[4]s }
interfaces = { "127.0.0.1" }
c2s_ports = { %[5]s }
c2s_direct_tls_ports = { }
legacy_ssl_ports = { }
s2s_ports = { }
s2s_direct_tls_ports = { }
http_ports = { }
https_ports = { }
component_ports = { }
c2s_require_encryption = false
VirtualHost %[6]q
  ssl = { certificate = %[7]q, key = %[8]q }
`, s.path("data"), s.Dir, enabled, disabled, port, ProsodyDomain, s.path("cert.pem"), s.path("key.pem"))
}
