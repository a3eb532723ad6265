package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// BenchmarkIssue measures stored certificates per second: server-side
// ECDSA P-256 keys, tls-server profile, lint, durable serial reservation
// and record, on SQLite and PostgreSQL with 1 and 16 requesters, with and
// without group commit; "raw" is bare key generation plus
// x509.CreateCertificate for comparison, "lint" the throwaway signature
// plus zlint alone.
func BenchmarkIssue(b *testing.B) {
	for _, be := range []struct {
		name string
		open func(testing.TB) inventory.Store
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		for _, batch := range []struct {
			name   string
			window time.Duration
		}{{"group", 0}, {"group1ms", time.Millisecond}, {"nogroup", -1}} {
			for _, n := range []int{1, 16} {
				b.Run(be.name+"/"+batch.name+"/"+itoa(n), func(b *testing.B) {
					st := be.open(b)
					a := New(st, newSealer(b), Config{BatchWindow: batch.window})
					if _, _, err := a.EnsureDefault(context.Background()); err != nil {
						b.Fatal(err)
					}
					benchIssue(b, a, n)
				})
			}
		}
	}
	b.Run("sqlite/group/16/userpolicy", benchUserPolicy)
	b.Run("raw", benchRaw)
	b.Run("lint", benchLint)
}

// benchUserPolicy is sqlite/group/16 issuing as a user under a
// restricted issuance policy of 50 domain rules (the request's domain
// last) and 4 IP ranges: what the role check adds to an issuance.
func benchUserPolicy(b *testing.B) {
	ctx := context.Background()
	st := openSQLite(b)
	a := New(st, newSealer(b), Config{})
	c, _, err := a.EnsureDefault(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var domains []inventory.DomainRule
	for i := range 49 {
		domains = append(domains, inventory.DomainRule{Domain: "d" + itoa(i) + ".example.org", Subdomains: true})
	}
	domains = append(domains, inventory.DomainRule{Domain: "example.test", Subdomains: true})
	p := inventory.IssuancePolicy{Admin: inventory.RolePolicy{Unrestricted: true}, User: inventory.RolePolicy{
		Domains: domains, IPRanges: []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fd00::/8"}}}
	if _, err := a.SetIssuancePolicy(ctx, c.Name, p, "bench"); err != nil {
		b.Fatal(err)
	}
	benchIssueAs(b, a, 16, Request{Requester: Requester{Name: "user:bench", Role: inventory.RoleUser},
		Profile: TLSServer, DNSNames: []string{"bench.example.test"}})
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

func benchIssue(b *testing.B, a *Authority, requesters int) {
	benchIssueAs(b, a, requesters, Request{Requester: Admin("test"), Profile: TLSServer,
		DNSNames: []string{"bench.example.test"}, Actor: "bench"})
}

func benchIssueAs(b *testing.B, a *Authority, requesters int, r Request) {
	ctx := context.Background()
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	if requesters == 1 {
		for range b.N {
			if _, err := a.Issue(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism((requesters + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := a.Issue(ctx, r); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	report(b, start, cpu)
}

// report gives throughput and the process CPU time per certificate: on a
// shared machine the second tells what the code costs, whatever else
// runs.
func report(b *testing.B, start time.Time, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "certs/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-us/cert")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRaw is the floor: key generation and one signature, nothing stored.
func benchRaw(b *testing.B) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	parent := &x509.Certificate{Subject: pkix.Name{CommonName: "raw CA"}, SubjectKeyId: []byte{1}, PublicKey: caKey.Public()}
	start, cpu := time.Now(), cpuTime()
	for i := range b.N {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "bench.example.test"},
			DNSNames: []string{"bench.example.test"}, NotBefore: time.Now(), NotAfter: time.Now().Add(90 * day)}
		if _, err := x509.CreateCertificate(rand.Reader, tmpl, parent, k.Public(), caKey); err != nil {
			b.Fatal(err)
		}
	}
	report(b, start, cpu)
}

// benchLint is the lint step alone: throwaway signature and zlint.
func benchLint(b *testing.B) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	parent := &x509.Certificate{Subject: pkix.Name{CommonName: "lint CA"}, SubjectKeyId: []byte{1}}
	s, err := newSigner(rand.Reader, parent, caKey)
	if err != nil {
		b.Fatal(err)
	}
	l := newLinter()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := newSerial(rand.Reader)
	tmpl, err := TLSServer.template(serial, pkix.Name{CommonName: "bench.example.test"},
		nameSet{dns: []string{"bench.example.test"}}, k.Public(), time.Now(), time.Now().Add(90*day))
	if err != nil {
		b.Fatal(err)
	}
	start, cpu := time.Now(), cpuTime()
	for range b.N {
		if _, err := s.lint(l, lintSet{webPKI: true}, tmpl, k.Public()); err != nil {
			b.Fatal(err)
		}
	}
	report(b, start, cpu)
}
