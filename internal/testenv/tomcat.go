package testenv

import (
	"bytes"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
	"software.sslmate.com/src/go-pkcs12"
)

// tomcatHome is CATALINA_HOME of Debian's tomcat10 package.
const tomcatHome = "/usr/share/tomcat10"

// TomcatConnector is one HTTPS connector of a Tomcat, reading its
// certificate and key from a key store.
type TomcatConnector struct {
	// Addr is "127.0.0.1:PORT"; StartTomcat picks a free port.
	Addr string
	// KeystoreFile is the key store (certificateKeystoreFile). When it
	// does not exist, StartTomcat writes a throwaway self-signed one.
	KeystoreFile string
	// KeystoreType is "PKCS12" or "JKS".
	KeystoreType string
	// Password is the key-store password (certificateKeystorePassword),
	// also the key's.
	Password string
	// Alias is certificateKeyAlias; empty names none, and Tomcat uses
	// the key store's first key entry.
	Alias string
}

// Tomcat is a real Apache Tomcat 10 started by a test: CATALINA_HOME is
// Debian's tomcat10, CATALINA_BASE a directory of the test holding
// conf/server.xml with one HTTPS connector per TomcatConnector and the
// shutdown port disabled. The JVM is a child of the test, started again
// whenever a signal stops it until the test ends, so that RestartCommand
// can stop it as "systemctl restart" would.
type Tomcat struct {
	// Base is CATALINA_BASE.
	Base string
	// Connectors are the HTTPS connectors, Addr filled in.
	Connectors []TomcatConnector

	java string
	out  *lockedBuffer

	mu       sync.Mutex
	proc     *process // the running JVM
	stopping bool
	ended    chan struct{} // closed when no JVM runs any more
}

// StartTomcat writes CATALINA_BASE, starts Tomcat and returns once every
// connector completes a TLS handshake (a JVM start takes seconds: use
// one Tomcat with several connectors rather than several Tomcats).
// Tomcat is stopped when the test ends. It skips, or fails in strict
// mode, without java or tomcat10.
func StartTomcat(t testing.TB, connectors []TomcatConnector) *Tomcat {
	t.Helper()
	java := Command(t, "java")
	if !fileExists(filepath.Join(tomcatHome, "bin", "bootstrap.jar")) {
		Missing(t, "Tomcat 10 in %s (Debian package tomcat10)", tomcatHome)
	}
	tc := &Tomcat{Base: t.TempDir(), java: java, out: &lockedBuffer{}, ended: make(chan struct{})}
	for _, c := range connectors {
		if c.Addr == "" {
			c.Addr = FreeAddr(t)
		}
		if !fileExists(c.KeystoreFile) {
			writeSelfSignedKeyStore(t, c)
		}
		tc.Connectors = append(tc.Connectors, c)
	}
	for _, d := range []string{"logs", "temp", "work", "webapps"} {
		if err := os.MkdirAll(filepath.Join(tc.Base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(tc.Base, "conf", "server.xml"), []byte(tc.serverXML()), 0o600)
	writeFile(t, tc.restartScript(), []byte(tc.restartShell()), 0o755)
	first, err := tc.launch()
	if err != nil {
		t.Fatalf("testenv: start tomcat: %v", err)
	}
	go tc.supervise(first)
	t.Cleanup(tc.stop)
	tc.waitReady(t, first)
	return tc
}

// RestartCommand returns a shell command that restarts this Tomcat, the
// test's "systemctl restart tomcat": it stops the JVM, and returns once
// a new one serves TLS on every connector, or fails after 45 seconds.
func (tc *Tomcat) RestartCommand() string { return "/bin/sh " + tc.restartScript() }

// Log returns what the JVMs wrote so far.
func (tc *Tomcat) Log() string { return tc.out.String() }

func (tc *Tomcat) pidFile() string       { return filepath.Join(tc.Base, "tomcat.pid") }
func (tc *Tomcat) readyFile() string     { return filepath.Join(tc.Base, "ready.pid") }
func (tc *Tomcat) restartScript() string { return filepath.Join(tc.Base, "bin", "restart") }

// restartShell waits until ready.pid names a JVM other than the one it
// stopped; the supervisor writes it once the new JVM serves.
func (tc *Tomcat) restartShell() string {
	return fmt.Sprintf(`#!/bin/sh
pid=$(cat %[1]s) || exit 1
kill "$pid" || exit 1
n=0
until [ -s %[2]s ] && [ "$(cat %[2]s)" != "$pid" ]; do
  n=$((n + 1))
  if [ $n -gt 450 ]; then echo "tomcat did not serve again within 45 s" >&2; exit 1; fi
  sleep 0.1
done
echo "tomcat restarted: pid $pid stopped, pid $(cat %[2]s) serves"
`, tc.pidFile(), tc.readyFile())
}

var errTomcatStopping = errors.New("testenv: the test has ended")

// launch starts a JVM running Tomcat in the foreground and records its PID.
func (tc *Tomcat) launch() (*process, error) {
	args := []string{
		// A short-lived test server: quick start over peak speed.
		"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx128m", "-Xss512k",
		"-Djava.security.egd=file:/dev/urandom",
		"-Dcatalina.home=" + tomcatHome, "-Dcatalina.base=" + tc.Base,
		"-Djava.io.tmpdir=" + filepath.Join(tc.Base, "temp"),
		"-cp", filepath.Join(tomcatHome, "bin", "bootstrap.jar") + ":" + filepath.Join(tomcatHome, "bin", "tomcat-juli.jar"),
		"org.apache.catalina.startup.Bootstrap", "start",
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.stopping { // the test ended while the last JVM stopped
		return nil, errTomcatStopping
	}
	p, err := startProcess(tc.java, args, tc.out)
	if err != nil {
		return nil, err
	}
	tc.proc = p
	if err := os.WriteFile(tc.pidFile(), []byte(strconv.Itoa(p.pid())), 0o644); err != nil {
		p.stop()
		return nil, err
	}
	go tc.markReady(p)
	return p, nil
}

// supervise starts a new JVM whenever the running one exits, until the
// test ends.
func (tc *Tomcat) supervise(p *process) {
	defer close(tc.ended)
	for {
		<-p.done
		os.Remove(tc.readyFile())
		if !stoppedBySignal(p) { // a JVM that fails by itself would fail again
			fmt.Fprintf(tc.out, "testenv: tomcat exited by itself (%v); not restarted\n", p.cmd.ProcessState)
			return
		}
		next, err := tc.launch()
		if errors.Is(err, errTomcatStopping) {
			return
		}
		if err != nil {
			fmt.Fprintf(tc.out, "testenv: restart tomcat: %v\n", err)
			return
		}
		p = next
	}
}

// stoppedBySignal reports whether p ended because of a signal: the JVM
// exits with status 128+SIGTERM once its shutdown hooks have run.
func stoppedBySignal(p *process) bool {
	st := p.cmd.ProcessState
	return st.ExitCode() == 128+int(syscall.SIGTERM) || st.ExitCode() == -1
}

// markReady writes p's PID to ready.pid once every connector answers
// TLS, unless p exited first.
func (tc *Tomcat) markReady(p *process) {
	for _, c := range tc.Connectors {
		for !tlsAnswers(c.Addr, "") {
			if p.exited() {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.proc == p && !p.exited() {
		_ = os.WriteFile(tc.readyFile(), []byte(strconv.Itoa(p.pid())), 0o644)
	}
}

// waitReady returns once p is marked ready, and fails the test when
// Tomcat exits first or after a minute.
func (tc *Tomcat) waitReady(t testing.TB, p *process) {
	t.Helper()
	want := strconv.Itoa(p.pid())
	for deadline := time.Now().Add(time.Minute); ; {
		if got, _ := os.ReadFile(tc.readyFile()); string(got) == want {
			return
		}
		if p.exited() {
			t.Fatalf("testenv: tomcat exited: %s", tc.Log())
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: tomcat does not answer TLS on every connector after a minute: %s", tc.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the supervision and stops the running JVM.
func (tc *Tomcat) stop() {
	tc.mu.Lock()
	tc.stopping = true
	p := tc.proc
	tc.mu.Unlock()
	p.stop()
	<-tc.ended
}

func (tc *Tomcat) serverXML() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
`)
	for _, c := range tc.Connectors {
		host, port, _ := net.SplitHostPort(c.Addr)
		fmt.Fprintf(&b, `    <Connector address=%s port=%s protocol="org.apache.coyote.http11.Http11NioProtocol"
        SSLEnabled="true" scheme="https" secure="true">
      <SSLHostConfig>
        <Certificate certificateKeystoreFile=%s certificateKeystoreType=%s
            certificateKeystorePassword=%s`, xmlAttr(host), xmlAttr(port), xmlAttr(c.KeystoreFile),
			xmlAttr(c.KeystoreType), xmlAttr(c.Password))
		if c.Alias != "" {
			fmt.Fprintf(&b, " certificateKeyAlias=%s", xmlAttr(c.Alias))
		}
		b.WriteString("/>\n      </SSLHostConfig>\n    </Connector>\n")
	}
	b.WriteString(`    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" autoDeploy="false" deployOnStartup="false"/>
    </Engine>
  </Service>
</Server>
`)
	return b.String()
}

// xmlAttr quotes s as an XML attribute value.
func xmlAttr(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return `"` + strings.ReplaceAll(b.String(), `"`, "&quot;") + `"`
}

// writeSelfSignedKeyStore writes a throwaway self-signed certificate and
// key as c's key store (mode 0600): PKCS#12 without a friendly name, or
// JKS under c.Alias ("certkeeper" when empty).
func writeSelfSignedKeyStore(t testing.TB, c TomcatConnector) {
	t.Helper()
	cert, _ := SelfSignedCert(t)
	var data []byte
	var err error
	switch c.KeystoreType {
	case "PKCS12":
		data, err = pkcs12.Modern2023.Encode(cert.PrivateKey, cert.Leaf, nil, c.Password)
	case "JKS":
		data, err = jksKeyStore(cert.PrivateKey, cert.Leaf, c.Alias, c.Password)
	default:
		t.Fatalf("testenv: key store type %q: want PKCS12 or JKS", c.KeystoreType)
	}
	if err != nil {
		t.Fatalf("testenv: self-signed key store: %v", err)
	}
	writeFile(t, c.KeystoreFile, data, 0o600)
}

func jksKeyStore(key any, cert *x509.Certificate, alias, password string) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if alias == "" {
		alias = "certkeeper"
	}
	ks := keystore.New()
	entry := keystore.PrivateKeyEntry{CreationTime: time.Now(), PrivateKey: der,
		CertificateChain: []keystore.Certificate{{Type: "X509", Content: cert.Raw}}}
	if err := ks.SetPrivateKeyEntry(alias, entry, []byte(password)); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := ks.Store(&b, []byte(password)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
