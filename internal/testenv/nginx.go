package testenv

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// NginxServer is one TLS server block of an Nginx.
type NginxServer struct {
	// Listen is the address, "127.0.0.1:PORT". When empty, StartNginx
	// picks a free port and fills it in.
	Listen string
	// Name is the server_name; empty means "_".
	Name string
	// CertFile and KeyFile are the PEM certificate chain and key the
	// block serves. When empty they are files in the prefix; when the
	// files do not exist, StartNginx writes a throwaway self-signed
	// pair there.
	CertFile, KeyFile string
}

// Nginx is a real nginx started by a test, with its own prefix
// directory, configuration, pid file and error log.
type Nginx struct {
	// Prefix is the nginx prefix directory (-p), holding every file
	// nginx writes.
	Prefix string
	// Servers are the server blocks, Listen, CertFile and KeyFile filled in.
	Servers []NginxServer

	bin  string
	conf string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

// StartNginx writes a configuration with one TLS server block per
// server, starts nginx in the foreground (one worker, no access log) and
// returns once every Listen address completes a TLS handshake. nginx is
// stopped when the test ends. It skips, or fails in strict mode, without
// nginx.
func StartNginx(t testing.TB, servers []NginxServer) *Nginx {
	t.Helper()
	n := &Nginx{bin: Command(t, "nginx"), Prefix: t.TempDir(), out: &lockedBuffer{}, done: make(chan struct{})}
	n.conf = filepath.Join(n.Prefix, "nginx.conf")
	n.Servers = n.prepareServers(t, servers)
	writeFile(t, n.conf, []byte(n.config()), 0o644)
	n.start(t)
	n.waitReady(t)
	return n
}

// Conf returns the path of the configuration file.
func (n *Nginx) Conf() string { return n.conf }

// TestCommand returns a shell command that checks the configuration
// (and the certificate files it names).
func (n *Nginx) TestCommand() string {
	return fmt.Sprintf("%s -t -q -p %s -c %s", n.bin, n.Prefix, n.conf)
}

// ReloadCommand returns a shell command that makes the running nginx
// reload its configuration and certificates. Reloading is asynchronous:
// the command returns before the new workers serve.
func (n *Nginx) ReloadCommand() string {
	return fmt.Sprintf("%s -p %s -c %s -s reload", n.bin, n.Prefix, n.conf)
}

// Log returns what nginx wrote to its error log and to stderr so far.
func (n *Nginx) Log() string {
	data, _ := os.ReadFile(filepath.Join(n.Prefix, "error.log"))
	return string(data) + n.out.String()
}

func (n *Nginx) prepareServers(t testing.TB, servers []NginxServer) []NginxServer {
	t.Helper()
	out := make([]NginxServer, len(servers))
	var held []net.Listener // kept open so no two blocks get the same port
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for i, s := range servers {
		if s.Listen == "" {
			l := listenLoopback(t)
			held = append(held, l)
			s.Listen = l.Addr().String()
		}
		if s.CertFile == "" {
			s.CertFile = filepath.Join(n.Prefix, fmt.Sprintf("server%d.crt", i))
		}
		if s.KeyFile == "" {
			s.KeyFile = filepath.Join(n.Prefix, fmt.Sprintf("server%d.key", i))
		}
		ensureSelfSigned(t, s.CertFile, s.KeyFile)
		servers[i], out[i] = s, s
	}
	return out
}

func (n *Nginx) config() string {
	var b strings.Builder
	if os.Geteuid() == 0 {
		b.WriteString("user root;\n")
	}
	fmt.Fprintf(&b, "worker_processes 1;\ndaemon off;\npid %s;\nerror_log %s warn;\n",
		filepath.Join(n.Prefix, "nginx.pid"), filepath.Join(n.Prefix, "error.log"))
	fmt.Fprintf(&b, "worker_rlimit_nofile 4096;\nevents { worker_connections 2048; }\nhttp {\n")
	b.WriteString("  access_log off;\n  server_names_hash_bucket_size 128;\n  server_names_hash_max_size 8192;\n")
	for _, d := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "  %s_temp_path %s;\n", d, filepath.Join(n.Prefix, d+"_temp"))
	}
	for _, s := range n.Servers {
		name := s.Name
		if name == "" {
			name = "_"
		}
		fmt.Fprintf(&b, "  server {\n    listen %s ssl;\n    server_name %s;\n", s.Listen, name)
		fmt.Fprintf(&b, "    ssl_certificate %s;\n    ssl_certificate_key %s;\n", s.CertFile, s.KeyFile)
		b.WriteString("    location / { return 200 \"ok\\n\"; }\n  }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func (n *Nginx) start(t testing.TB) {
	t.Helper()
	n.cmd = exec.Command(n.bin, "-p", n.Prefix, "-c", n.conf)
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("testenv: start nginx: %v", err)
	}
	go func() { _ = n.cmd.Wait(); close(n.done) }()
	t.Cleanup(n.stop)
}

// stop asks the master (the process the test started) to shut down fast,
// then kills it when it has not exited after 10 seconds.
func (n *Nginx) stop() {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

func (n *Nginx) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	seen := map[string]bool{}
	for _, s := range n.Servers {
		if seen[s.Listen] {
			continue
		}
		seen[s.Listen] = true
		for !tlsAnswers(s.Listen, s.Name) {
			select {
			case <-n.done:
				t.Fatalf("testenv: nginx exited: %s", n.Log())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("testenv: nginx does not answer TLS on %s: %s", s.Listen, n.Log())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func tlsAnswers(addr, name string) bool {
	d := &net.Dialer{Timeout: time.Second}
	conf := &tls.Config{InsecureSkipVerify: true, ServerName: name} //nolint:gosec // readiness probe only
	c, err := tls.DialWithDialer(d, "tcp", addr, conf)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// ensureSelfSigned writes a throwaway self-signed certificate and key
// (PEM) to certFile and keyFile unless both exist.
func ensureSelfSigned(t testing.TB, certFile, keyFile string) {
	t.Helper()
	if fileExists(certFile) && fileExists(keyFile) {
		return
	}
	cert, _ := SelfSignedCert(t)
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644)
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// FreeAddr returns "127.0.0.1:PORT" for a TCP port that was free a
// moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l := listenLoopback(t)
	defer l.Close()
	return l.Addr().String()
}

func listenLoopback(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: free port: %v", err)
	}
	return l
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func writeFile(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

// lockedBuffer collects a process's output for error messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
