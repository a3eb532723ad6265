package testenv

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TLSFarmServerName is the name the farm's certificate is for; clients
// send it as SNI and verify it.
const TLSFarmServerName = "farm.certkeeper.test"

// maxFarm is how many listeners the farm's address scheme holds:
// 127.1.0.1 to 127.1.255.250.
const maxFarm = 256 * 250

// TLSFarm is n in-process TLS listeners, each on an address of its own in
// 127.1.0.0/16 (Linux routes all of 127.0.0.0/8 to loopback) with a port
// the system picks, all serving one certificate: a fleet of endpoints for
// monitoring benchmarks. Each connection gets a full handshake and is then
// closed by the server. The certificate is a self-signed CA certificate
// for TLSFarmServerName, so that an inventory can mark it as a trusted
// root and checks of the farm pass.
type TLSFarm struct {
	// Certificate is the self-signed leaf every listener serves, for
	// TLSFarmServerName; Roots holds it.
	Certificate *x509.Certificate
	Roots       *x509.CertPool

	lns       []net.Listener
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// StartTLSFarm starts a farm of n listeners, closed when the test ends.
// It fails the test when the file descriptor limit cannot hold them.
func StartTLSFarm(t testing.TB, n int) *TLSFarm {
	t.Helper()
	if n < 1 || n > maxFarm {
		t.Fatalf("testenv: a TLS farm holds 1 to %d listeners, not %d", maxFarm, n)
	}
	checkFDs(t, n)
	cert, leaf := farmCertificate(t)
	f := &TLSFarm{Certificate: leaf, Roots: x509.NewCertPool()}
	f.Roots.AddCert(leaf)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	t.Cleanup(f.Close)
	for i := range n {
		addr := fmt.Sprintf("127.1.%d.%d:0", i/250, i%250+1)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("testenv: TLS farm listener %d of %d at %s: %v", i+1, n, addr, err)
		}
		f.lns = append(f.lns, ln)
		f.wg.Add(1)
		go f.serve(ln, cfg)
	}
	return f
}

// checkFDs fails t when the soft limit on open files (which Go raises to
// the hard limit at start) leaves too little room for n listeners and
// their connections.
func checkFDs(t testing.TB, n int) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatalf("testenv: file descriptor limit: %v", err)
	}
	if need := uint64(n) + 1024; lim.Cur < need {
		t.Fatalf("testenv: a TLS farm of %d listeners needs about %d file descriptors; the limit is %d (hard %d): raise ulimit -n",
			n, need, lim.Cur, lim.Max)
	}
}

// farmCertificate makes the farm's self-signed ECDSA certificate.
func farmCertificate(t testing.TB) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: TLSFarmServerName},
		DNSNames: []string{TLSFarmServerName}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(30 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}

// serve accepts on ln until it is closed, handshaking each connection.
func (f *TLSFarm) serve(ln net.Listener, cfg *tls.Config) {
	defer f.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			tc := tls.Server(conn, cfg)
			if tc.Handshake() == nil {
				// Wait for the client to close, so that it reads the
				// whole handshake (and any session tickets) first.
				var b [1]byte
				tc.Read(b[:])
			}
		}()
	}
}

// Addrs returns the listeners' addresses, "127.1.X.Y:PORT", in start
// order.
func (f *TLSFarm) Addrs() []string {
	out := make([]string, len(f.lns))
	for i, ln := range f.lns {
		out[i] = ln.Addr().String()
	}
	return out
}

// ClientConfig returns a client configuration that verifies the farm's
// certificate for TLSFarmServerName, with no session cache: every
// handshake is a full one, as a monitoring check's is.
func (f *TLSFarm) ClientConfig() *tls.Config {
	return &tls.Config{RootCAs: f.Roots, ServerName: TLSFarmServerName}
}

// Handshake makes one full, verified TLS handshake with addr using cfg
// and closes the connection.
func Handshake(ctx context.Context, addr string, cfg *tls.Config) error {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return conn.Close()
}

// BareHandshakes makes n full, verified handshakes round the farm's
// listeners in start order, workers at a time, doing nothing else per
// endpoint: the floor under any check of the farm. It returns how long
// they took and how many failed.
func (f *TLSFarm) BareHandshakes(ctx context.Context, n, workers int) (time.Duration, int) {
	addrs, cfg := f.Addrs(), f.ClientConfig()
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range max(workers, 1) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				if Handshake(ctx, addrs[i%int64(len(addrs))], cfg) != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start), int(failed.Load())
}

// Close closes every listener and waits for the connections in progress
// to end. It is safe to call more than once.
func (f *TLSFarm) Close() {
	f.closeOnce.Do(func() {
		for _, ln := range f.lns {
			ln.Close()
		}
		f.wg.Wait()
	})
}
