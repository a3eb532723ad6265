package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// apacheModules is where Debian's apache2 package installs the httpd
// modules; the configuration loads the few it needs from there.
const apacheModules = "/usr/lib/apache2/modules"

// Apache is a real Apache httpd (Debian's apache2) started by a test,
// with its own server root holding the configuration, pid file, error
// log and runtime files, and one TLS virtual host on loopback.
type Apache struct {
	// Dir is the server root.
	Dir string
	// Addr is the virtual host's address, "127.0.0.1:PORT".
	Addr string
	// CertFile and KeyFile are what SSLCertificateFile and
	// SSLCertificateKeyFile name.
	CertFile, KeyFile string

	conf, ctl string
	out       *lockedBuffer
	proc      *process
}

// StartApache starts apache2 in the foreground with one TLS virtual host
// serving certFile (the certificate followed by its intermediates, as
// httpd 2.4.8 and later read it) and keyFile, writing a throwaway
// self-signed pair there when the files do not exist. It returns once
// the host completes a TLS handshake; httpd is stopped when the test
// ends. It skips, or fails in strict mode, without apache2, Debian's
// apachectl or mod_ssl.
func StartApache(t testing.TB, certFile, keyFile string) *Apache {
	t.Helper()
	bin := Command(t, "apache2")
	ctl := Command(t, "apachectl")
	if !fileExists(filepath.Join(apacheModules, "mod_ssl.so")) {
		Missing(t, "mod_ssl in %s", apacheModules)
	}
	a := &Apache{Dir: t.TempDir(), Addr: FreeAddr(t), CertFile: certFile, KeyFile: keyFile, ctl: ctl, out: &lockedBuffer{}}
	a.conf = filepath.Join(a.Dir, "httpd.conf")
	ensureSelfSigned(t, certFile, keyFile)
	writeFile(t, a.conf, []byte(a.config()), 0o644)
	a.proc = startServer(t, "apache2", bin, []string{"-f", a.conf, "-DFOREGROUND"}, a.Addr, a.Log, a.out)
	return a
}

// TestCommand returns the preset's test command, Debian's "apachectl
// configtest", pointed at this server's configuration.
func (a *Apache) TestCommand() string { return a.apachectl("configtest") }

// ReloadCommand returns the preset's reload command, "apachectl
// graceful", pointed at this server: httpd re-reads its configuration
// and certificates, and new children serve them while the old ones
// finish their connections.
func (a *Apache) ReloadCommand() string { return a.apachectl("graceful") }

// apachectl runs Debian's apachectl, which passes APACHE_ARGUMENTS to
// apache2 before "-k graceful" (or "-t").
func (a *Apache) apachectl(action string) string {
	return fmt.Sprintf("APACHE_ARGUMENTS='-f %s' %s %s", a.conf, a.ctl, action)
}

// Log returns what httpd wrote to its error log and to stderr so far.
func (a *Apache) Log() string {
	data, _ := os.ReadFile(filepath.Join(a.Dir, "error.log"))
	return string(data) + a.out.String()
}

func (a *Apache) config() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ServerRoot %s\nServerName localhost\nDefaultRuntimeDir %s\n", a.Dir, a.Dir)
	fmt.Fprintf(&b, "PidFile %s\nErrorLog %s\nLogLevel warn\n",
		filepath.Join(a.Dir, "httpd.pid"), filepath.Join(a.Dir, "error.log"))
	for _, m := range []string{"mpm_event", "authz_core", "socache_shmcb", "ssl"} {
		fmt.Fprintf(&b, "LoadModule %s_module %s\n", m, filepath.Join(apacheModules, "mod_"+m+".so"))
	}
	if os.Geteuid() == 0 {
		// httpd refuses to serve as root; its children run as nobody.
		// The keys are read by the parent, as root.
		b.WriteString("User #65534\nGroup #65534\n")
	}
	// Few threads, and room for a second generation of children during
	// a graceful restart.
	b.WriteString("StartServers 1\nServerLimit 4\nThreadLimit 4\nThreadsPerChild 4\n" +
		"MinSpareThreads 4\nMaxSpareThreads 8\nMaxRequestWorkers 8\n")
	fmt.Fprintf(&b, "Listen %s\nSSLSessionCache shmcb:%s(65536)\n", a.Addr, filepath.Join(a.Dir, "ssl_scache"))
	fmt.Fprintf(&b, "<VirtualHost %s>\n  SSLEngine on\n", a.Addr)
	fmt.Fprintf(&b, "  SSLCertificateFile %s\n  SSLCertificateKeyFile %s\n</VirtualHost>\n", a.CertFile, a.KeyFile)
	return b.String()
}
