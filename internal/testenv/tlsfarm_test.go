package testenv_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestTLSFarm: 10,000 listeners start on distinct loopback addresses
// (the file descriptor limit allows it) and every 25th one, spread over
// the range, completes a verified handshake.
func TestTLSFarm(t *testing.T) {
	const n, every = 10000, 25
	start := time.Now()
	f := testenv.StartTLSFarm(t, n)
	t.Logf("%d listeners started in %v", n, time.Since(start))
	addrs := f.Addrs()
	hosts := map[string]bool{}
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil || !net.ParseIP(host).IsLoopback() {
			t.Fatalf("farm address %q: want a loopback host:port", a)
		}
		hosts[host] = true
	}
	if len(addrs) != n || len(hosts) != n {
		t.Fatalf("farm has %d addresses on %d hosts, want %d of each", len(addrs), len(hosts), n)
	}
	var failed atomic.Int64
	var firstErr sync.Once
	runConcurrently(len(addrs)/every, 50, func(i int) {
		if err := testenv.Handshake(context.Background(), addrs[i*every], f.ClientConfig()); err != nil {
			failed.Add(1)
			firstErr.Do(func() { t.Errorf("handshake with %s: %v", addrs[i*every], err) })
		}
	})
	if n := failed.Load(); n != 0 {
		t.Errorf("%d handshakes failed, want none", n)
	}
	f.Close()
	if _, err := net.DialTimeout("tcp", addrs[0], time.Second); err == nil {
		t.Errorf("after Close, %s still accepts connections", addrs[0])
	}
}

// runConcurrently calls fn for 0..n-1 from workers goroutines.
func runConcurrently(n, workers int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				fn(int(i))
			}
		}()
	}
	wg.Wait()
}

// BenchmarkBareHandshakeFarm is the floor for monitoring at scale: bare
// crypto/tls handshakes (ECDSA P-256, TLS 1.3, no session resumption)
// against a farm of 10,000 loopback listeners, 50 at a time, with nothing
// else done per endpoint. Client and server share the machine's CPUs.
func BenchmarkBareHandshakeFarm(b *testing.B) {
	f := testenv.StartTLSFarm(b, 10000)
	b.ResetTimer()
	elapsed, failed := f.BareHandshakes(context.Background(), b.N, 50)
	b.StopTimer()
	if failed != 0 {
		b.Fatalf("%d of %d handshakes failed", failed, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "handshakes/s")
}
