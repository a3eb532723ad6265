package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"github.com/certkeeper/certkeeper/internal/testenv"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// served is a running "certkeeper serve" over a ck's data directory.
type served struct {
	// URL is the HTTPS base URL of the web UI and API; PKI the plain-HTTP
	// base URL of the CA publication; Agent the agent endpoint's.
	URL, PKI, Agent string
	// FirstPassword is the first admin's one-time password, when this
	// start made the admin.
	FirstPassword string
	cmd           *exec.Cmd
	logs          *testenv.Buffer
	stopped       chan error
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serve starts "certkeeper serve" with both listeners on free loopback
// ports (unless args choose them), waits until it listens, and stops it
// with SIGTERM when the test ends.
func serve(t *testing.T, c *ck, args ...string) *served {
	t.Helper()
	argv := append([]string{"serve"}, args...)
	if !hasFlag(args, "--listen") {
		argv = append(argv, "--listen", "127.0.0.1:0")
	}
	if !hasFlag(args, "--pki-listen") {
		argv = append(argv, "--pki-listen", "127.0.0.1:0")
	}
	if !hasFlag(args, "--agent-listen") {
		argv = append(argv, "--agent-listen", "127.0.0.1:0")
	}
	if !hasFlag(args, "--metrics-listen") {
		argv = append(argv, "--metrics-listen", "127.0.0.1:0")
	}
	cmd := exec.Command(binary, argv...)
	cmd.Env = append(append(os.Environ(), "CERTKEEPER_DATA_DIR="+c.dataDir, "CERTKEEPER_DATABASE=", "CERTKEEPER_MASTER_KEY="), c.env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, logs: &testenv.Buffer{}, stopped: make(chan error, 1)}
	cmd.Stderr = s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.stopped <- cmd.Wait() }()
	t.Cleanup(func() { s.stop(t) })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	for s.URL == "" || (s.PKI == "" && !hasOff(args)) {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("serve stopped before listening; log:\n%s", s.logs.String())
			}
			s.read(line)
		case <-deadline:
			t.Fatalf("serve did not listen within 30s; log:\n%s", s.logs.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	return s
}

func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag || strings.HasPrefix(a, flag+"=") {
			return true
		}
	}
	return false
}

func hasOff(args []string) bool {
	for i, a := range args {
		if a == "--pki-listen" && i+1 < len(args) && args[i+1] == "off" {
			return true
		}
	}
	return false
}

// read takes what serve prints: the first password and the two addresses.
func (s *served) read(line string) {
	const main, pki, first = "certkeeper is serving on ", "CA certificates, CRLs and OCSP over plain HTTP on ", "First start: "
	const agent = "deployment agents connect to "
	switch {
	case strings.HasPrefix(line, agent):
		s.Agent = strings.Fields(strings.TrimPrefix(line, agent))[0]
	case strings.HasPrefix(line, main):
		s.URL = strings.Fields(strings.TrimPrefix(line, main))[0]
	case strings.HasPrefix(line, pki):
		s.PKI = strings.TrimSuffix(strings.Fields(strings.TrimPrefix(line, pki))[0], "/pki/")
	case strings.HasPrefix(line, first):
		if i := strings.Index(line, "with the password "); i >= 0 {
			s.FirstPassword = strings.Fields(line[i+len("with the password "):])[0]
		}
	}
}

// stop sends SIGTERM and waits up to 10 s for a clean exit.
func (s *served) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.stopped:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM; log:\n%s", err, s.logs.String())
		}
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.stopped
		t.Errorf("serve did not stop within 10s of SIGTERM")
	}
	if t.Failed() {
		t.Logf("serve log:\n%s", s.logs.String())
	}
}

// httpsClient trusts the default CA that the served instance wrote into
// the data directory.
func (c *ck) httpsClient(t *testing.T) *http.Client {
	t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join(c.dataDir, "certs", "certkeeper-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatal("certkeeper-ca.pem holds no certificate")
	}
	return &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
}
