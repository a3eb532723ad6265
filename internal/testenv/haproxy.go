package testenv

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"testing"
)

// HAProxy is a real HAProxy started by a test in master-worker mode, with
// its own configuration and pid file, and one TLS frontend on loopback.
type HAProxy struct {
	// Dir holds the configuration and the pid file.
	Dir string
	// Addr is the frontend's address, "127.0.0.1:PORT".
	Addr string
	// PEMFile is the frontend's "crt": the certificate, its
	// intermediates and the key in one file.
	PEMFile string

	bin, conf, pidFile string
	out                *lockedBuffer
	proc               *process
}

// StartHAProxy starts haproxy in the foreground as master and worker
// (-W -db) with one frontend "bind ADDR ssl crt pemFile", writing a
// throwaway self-signed certificate and key there when the file does
// not exist. It returns once the frontend completes a TLS handshake;
// haproxy is stopped when the test ends. It skips, or fails in strict
// mode, without haproxy.
func StartHAProxy(t testing.TB, pemFile string) *HAProxy {
	t.Helper()
	h := &HAProxy{bin: Command(t, "haproxy"), Dir: t.TempDir(), Addr: FreeAddr(t), PEMFile: pemFile, out: &lockedBuffer{}}
	h.conf = filepath.Join(h.Dir, "haproxy.cfg")
	h.pidFile = filepath.Join(h.Dir, "haproxy.pid")
	if !fileExists(pemFile) {
		writeSelfSignedCombined(t, pemFile)
	}
	writeFile(t, h.conf, []byte(h.config()), 0o644)
	h.proc = startServer(t, "haproxy", h.bin, []string{"-W", "-db", "-f", h.conf, "-p", h.pidFile}, h.Addr, h.Log, h.out)
	return h
}

// TestCommand returns a shell command that checks the configuration and
// the certificate file it names (the preset's "haproxy -c -f CFG").
func (h *HAProxy) TestCommand() string {
	return fmt.Sprintf("%s -c -q -f %s", h.bin, h.conf)
}

// ReloadCommand returns a shell command that reloads this haproxy the
// way "systemctl reload haproxy" does on Debian: SIGUSR2 to the master,
// which starts new workers with the new configuration and certificates
// and lets the old ones finish. It returns before the new workers serve.
func (h *HAProxy) ReloadCommand() string {
	return fmt.Sprintf("kill -USR2 $(cat %s)", h.pidFile)
}

// Log returns what haproxy wrote so far.
func (h *HAProxy) Log() string { return h.out.String() }

func (h *HAProxy) config() string {
	return fmt.Sprintf(`global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend tls
  bind %s ssl crt %s
  http-request return status 200 content-type text/plain string ok
`, h.Addr, h.PEMFile)
}

// writeSelfSignedCombined writes a throwaway self-signed certificate
// followed by its key (PEM) to name, mode 0600.
func writeSelfSignedCombined(t testing.TB, name string) {
	t.Helper()
	cert, _ := SelfSignedCert(t)
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})...)
	writeFile(t, name, data, 0o600)
}
