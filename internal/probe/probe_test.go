package probe

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// selfSigned makes a throwaway ECDSA P-256 certificate for name.
func selfSigned(t testing.TB, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serve runs handle for every connection to a fresh loopback listener until
// the test ends, and returns the listener's address.
func serve(t testing.TB, handle func(ctx context.Context, c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { defer c.Close(); handle(ctx, c) })
		}
	})
	return ln.Addr().String()
}

// serveTLS serves TLS handshakes with cfg, then closes.
func serveTLS(t testing.TB, cfg *tls.Config) string {
	return serve(t, func(ctx context.Context, c net.Conn) {
		tls.Server(c, cfg).HandshakeContext(ctx) // the client reports failures
	})
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestTLS(t *testing.T) {
	leaf, inter := selfSigned(t, "svc.test"), selfSigned(t, "Some Intermediate")
	served := tls.Certificate{Certificate: [][]byte{leaf.Certificate[0], inter.Certificate[0]}, PrivateKey: leaf.PrivateKey}
	var mu sync.Mutex
	var sni string
	cfg := &tls.Config{Certificates: []tls.Certificate{served}, GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		defer mu.Unlock()
		sni = h.ServerName
		return nil, nil
	}}
	addr := serveTLS(t, cfg)
	dialAddr := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	tests := []struct {
		name, addr string
		opts       Options
		wantName   string // Result.ServerName
		wantSNI    string
	}{
		{"IP: no SNI", addr, Options{}, "127.0.0.1", ""},
		{"name from the address", "svc.test:443", Options{DialContext: dialAddr}, "svc.test", "svc.test"},
		{"explicit name", addr, Options{ServerName: "other.test"}, "other.test", "other.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := TLS(context.Background(), tt.addr, tt.opts)
			if err != nil {
				t.Fatalf("TLS: %v", err)
			}
			mu.Lock()
			gotSNI := sni
			mu.Unlock()
			if res.Address != tt.addr || res.ServerName != tt.wantName || gotSNI != tt.wantSNI {
				t.Errorf("address %q, name %q, SNI %q; want %q, %q, %q", res.Address, res.ServerName, gotSNI, tt.addr, tt.wantName, tt.wantSNI)
			}
			if res.Version != "TLS 1.3" || !strings.HasPrefix(res.CipherSuite, "TLS_") {
				t.Errorf("version %q, suite %q; want TLS 1.3 and a TLS_ suite", res.Version, res.CipherSuite)
			}
			if len(res.Chain) != 2 || res.Chain[0].Subject.CommonName != "svc.test" || res.Chain[1].Subject.CommonName != "Some Intermediate" {
				t.Errorf("chain = %v, want svc.test then Some Intermediate, as served", res.Chain)
			}
		})
	}
}

// TestTLSOldServer: a TLS 1.0 server with a legacy suite is still observed.
func TestTLSOldServer(t *testing.T) {
	addr := serveTLS(t, &tls.Config{
		Certificates: []tls.Certificate{selfSigned(t, "old.test")},
		MinVersion:   tls.VersionTLS10, MaxVersion: tls.VersionTLS10,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA},
	})
	res, err := TLS(context.Background(), addr, Options{})
	if err != nil {
		t.Fatalf("TLS: %v", err)
	}
	if res.Version != "TLS 1.0" || res.CipherSuite != "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" {
		t.Errorf("version %q, suite %q; want TLS 1.0, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", res.Version, res.CipherSuite)
	}
}

func TestTLSClock(t *testing.T) {
	addr := serveTLS(t, &tls.Config{Certificates: []tls.Certificate{selfSigned(t, "svc.test")}})
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	calls := 0
	now := func() time.Time { calls++; return start.Add(time.Duration(calls-1) * 250 * time.Millisecond) }
	res, err := TLS(context.Background(), addr, Options{Now: now})
	if err != nil {
		t.Fatalf("TLS: %v", err)
	}
	if res.Duration != 250*time.Millisecond {
		t.Errorf("Duration = %v, want 250ms from the injected clock", res.Duration)
	}
}

// TestTLSClientCertificate: a TLS 1.2 server demanding a client certificate
// answers with an alert unless Options.ClientCertificate is set.
func TestTLSClientCertificate(t *testing.T) {
	client := selfSigned(t, "client.test")
	clientCert, _ := x509.ParseCertificate(client.Certificate[0])
	cas := x509.NewCertPool()
	cas.AddCert(clientCert)
	addr := serveTLS(t, &tls.Config{
		Certificates: []tls.Certificate{selfSigned(t, "svc.test")},
		ClientAuth:   tls.RequireAndVerifyClientCert, ClientCAs: cas,
		MaxVersion: tls.VersionTLS12, // in TLS 1.3 the alert comes after the client's handshake ends
	})
	_, err := TLS(context.Background(), addr, Options{})
	want := "probe: " + addr + `: the server refused the handshake with TLS alert "handshake failure"`
	if !errors.Is(err, ErrAlert) || err.Error() != want {
		t.Errorf("without a client certificate: err = %v, want %q (ErrAlert)", err, want)
	}
	if _, err := TLS(context.Background(), addr, Options{ClientCertificate: &client}); err != nil {
		t.Errorf("with a client certificate: %v", err)
	}
}

func TestTLSErrors(t *testing.T) {
	const timeout = 1500 * time.Millisecond
	ssh := serve(t, func(_ context.Context, c net.Conn) { io.WriteString(c, "SSH-2.0-x\r\n"); io.Copy(io.Discard, c) })
	http10 := serve(t, func(_ context.Context, c net.Conn) {
		readRecord(c)
		io.WriteString(c, "HTTP/1.0 400 Bad Request\r\n\r\n")
	})
	silent := serve(t, func(ctx context.Context, _ net.Conn) { <-ctx.Done() })
	hangup := serve(t, func(_ context.Context, c net.Conn) { readRecord(c) })
	noDNS := func(context.Context, string, string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "nx.test", IsNotFound: true}}
	}
	closed := closedPort(t)
	tests := []struct {
		name, addr string
		dial       func(context.Context, string, string) (net.Conn, error)
		kind       error
		reason     string
	}{
		{"closed port", closed, nil, ErrRefused, "nothing listens on the port (connection refused)"},
		{"SSH banner", ssh, nil, ErrNotTLS, `the service does not speak TLS (it answered "SSH-2")`},
		{"HTTP/1.0", http10, nil, ErrNotTLS, `the service does not speak TLS (it answered "HTTP/")`},
		{"silent", silent, nil, ErrTimeout, "no TLS answer within 1.5s"},
		{"hang-up", hangup, nil, ErrClosed, "the service closed the connection without a TLS answer (not TLS, or it refused every version and cipher suite offered)"},
		{"DNS failure", "nx.test:443", noDNS, ErrUnresolved, `cannot resolve "nx.test": no such host`},
		{"no port", "127.0.0.1", nil, nil, "not a host:port address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := TLS(context.Background(), tt.addr, Options{Timeout: timeout, DialContext: tt.dial})
			elapsed := time.Since(start)
			if want := "probe: " + tt.addr + ": " + tt.reason; err == nil || err.Error() != want {
				t.Errorf("err = %v, want %q", err, want)
			}
			if tt.kind != nil && !errors.Is(err, tt.kind) {
				t.Errorf("errors.Is(err, %v) = false", tt.kind)
			}
			if tt.kind == ErrTimeout && elapsed < timeout-100*time.Millisecond {
				t.Errorf("gave up after %v, before the %v timeout", elapsed, timeout)
			}
			if elapsed > timeout+500*time.Millisecond {
				t.Errorf("took %v, want at most the %v timeout + 500ms", elapsed, timeout)
			}
		})
	}
}

func TestTLSCanceled(t *testing.T) {
	silent := serve(t, func(ctx context.Context, _ net.Conn) { <-ctx.Done() })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := TLS(ctx, silent, Options{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want one wrapping context.DeadlineExceeded", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := TLS(ctx, silent, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want one wrapping context.Canceled", err)
	}
}

// readRecord reads one TLS record, the ClientHello, so that closing the
// connection afterwards does not reset it.
func readRecord(c net.Conn) {
	var hdr [5]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return
	}
	io.CopyN(io.Discard, c, int64(hdr[3])<<8|int64(hdr[4]))
}

func BenchmarkTLS(b *testing.B) {
	addr := serveTLS(b, &tls.Config{Certificates: []tls.Certificate{selfSigned(b, "svc.test")}})
	ctx := context.Background()
	for b.Loop() {
		if _, err := TLS(ctx, addr, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
