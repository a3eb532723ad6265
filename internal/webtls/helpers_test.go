package webtls

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// fixture is a real SQLite inventory with the default built-in CA, a
// data directory, and the production Issuer and Store over them.
type fixture struct {
	st      inventory.Store
	inv     *Inventory
	roots   *x509.CertPool
	clock   *testenv.Clock
	dataDir string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	master := make([]byte, keys.MasterKeySize)
	rand.Read(master)
	sealer, err := keys.NewSealer(nil, master)
	if err != nil {
		t.Fatal(err)
	}
	// A fixed date: zlint's CA/B Forum validity lints (SC-081) refuse the
	// CA's 365-day tls-server certificates issued from 2027-03-15 on, and
	// the renewal test moves 8 months ahead.
	clk := testenv.NewClock(time.Date(2026, time.January, 5, 12, 0, 0, 0, time.UTC))
	auth := ca.New(st, sealer, ca.Config{Now: clk.Now, BatchWindow: -1})
	c, _, err := auth.EnsureDefault(t.Context())
	if err != nil {
		t.Fatalf("EnsureDefault: %v", err)
	}
	chain, err := auth.Chain(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(chain[len(chain)-1])
	dataDir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dataDir, "certs"), 0o700); err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, inv: NewInventory(st, auth, sealer), roots: roots, clock: clk, dataDir: dataDir}
}

func (f *fixture) customFile() string { return filepath.Join(f.dataDir, "certs", "web-server.pem") }

// config is a Config watching the data directory's web-server.pem, on
// the fixture's clock, polling fast.
func (f *fixture) config(names ...string) Config {
	return Config{Names: names, CustomFile: f.customFile(), Poll: 10 * time.Millisecond, Now: f.clock.Now}
}

// start makes a Manager and serves HTTPS with its TLSConfig on loopback;
// it returns the Manager, the server's address and the log.
func (f *fixture) start(t *testing.T, cfg Config) (*Manager, string, *testenv.Buffer) {
	t.Helper()
	logs := &testenv.Buffer{}
	m, err := New(t.Context(), cfg, f.inv, f.inv, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("New: %v\n%s", err, logs)
	}
	return m, serveHTTPS(t, m), logs
}

// serveHTTPS serves a trivial handler over m.TLSConfig() as "certkeeper
// serve" does.
func serveHTTPS(t *testing.T, m *Manager) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}),
		TLSConfig: m.TLSConfig(), ErrorLog: log.New(io.Discard, "", 0)}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeTLS: %v", err)
		}
	})
	return ln.Addr().String()
}

// run runs m until the test ends.
func run(t *testing.T, m *Manager) {
	ctx := t.Context()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// runStoppable runs m until the returned stop is called (or the test
// ends); stop returns once Run has returned, so that the test may then
// call m.tick itself: one tick is exactly what Run does every Poll, so
// asserting that a tick changes nothing needs no sleep.
func runStoppable(t *testing.T, m *Manager) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// handshake connects to addr as serverName, verifying the chain against
// roots at now, and returns the presented leaf.
func handshake(t *testing.T, addr, serverName string, roots *x509.CertPool, now func() time.Time) (*x509.Certificate, error) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: serverName, RootCAs: roots, Time: now})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if v := conn.ConnectionState().Version; v < tls.VersionTLS12 {
		t.Errorf("negotiated TLS version %x, want 1.2 or later", v)
	}
	return conn.ConnectionState().PeerCertificates[0], nil
}

// mustHandshake is handshake failing the test on error.
func mustHandshake(t *testing.T, addr, serverName string, roots *x509.CertPool, now func() time.Time) *x509.Certificate {
	t.Helper()
	leaf, err := handshake(t, addr, serverName, roots, now)
	if err != nil {
		t.Fatalf("handshake as %s: %v", serverName, err)
	}
	return leaf
}

// selfSignedPair makes a self-signed certificate and key for cn with the
// openssl command, as an admin would, and returns their PEM.
func selfSignedPair(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	openssl := testenv.Command(t, "openssl")
	dir := t.TempDir()
	cmd := exec.Command(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		"-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "30", "-subj", "/CN="+cn,
		"-addext", "subjectAltName=DNS:"+cn+",DNS:localhost,IP:127.0.0.1")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	certPEM, _ = os.ReadFile(filepath.Join(dir, "cert.pem"))
	keyPEM, _ = os.ReadFile(filepath.Join(dir, "key.pem"))
	return certPEM, keyPEM
}

// writeFile replaces path's content as an admin's editor might, in place.
// writeFile replaces path in one step (a temporary file renamed over
// it), as an operator's "mv" would: the watcher never sees half a file.
func writeFile(t *testing.T, path string, parts ...[]byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, bytes.Join(parts, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}
