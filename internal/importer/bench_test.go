package importer

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// benchFiles holds generated one-certificate PEM files, made once per run.
var benchFiles = struct {
	once sync.Once
	fsys files
	srcs []Source
}{}

const benchCount = 100_000

func generateBenchFiles(b *testing.B) (files, []Source) {
	benchFiles.once.Do(func() {
		ca := newCA(b)
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		benchFiles.fsys = make(files, benchCount)
		base := time.Now()
		for i := 0; i < benchCount; i++ {
			name := fmt.Sprintf("cert-%06d.pem", i)
			notAfter := base.Add(time.Duration(i%730+1) * 24 * time.Hour)
			benchFiles.fsys[name] = ca.leafPEM(b, int64(i+2), fmt.Sprintf("host%d.bench.example", i), &k.PublicKey, notAfter)
			benchFiles.srcs = append(benchFiles.srcs, Source{Name: name})
		}
	})
	return benchFiles.fsys, benchFiles.srcs
}

// BenchmarkImport/raw-parse-only is the floor the import is compared with:
// bare pem.Decode and x509.ParseCertificate of the same files.
//
// BenchmarkImport imports 100,000 one-certificate PEM files end to end
// (decode, record, store in batches) into a fresh database per iteration,
// and reports certificates per second and how far the Go heap grew above
// its level before the import (the 100,000 input files, held in memory by
// the benchmark, are not counted).
func BenchmarkImport(b *testing.B) {
	fsys, srcs := generateBenchFiles(b)
	backends := map[string]func(b *testing.B) string{
		"sqlite":   func(b *testing.B) string { return filepath.Join(b.TempDir(), "ck.db") },
		"postgres": func(b *testing.B) string { return testenv.PostgresDSN(b) },
	}
	b.Run("raw-parse-only", func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			for _, src := range srcs {
				block, _ := pem.Decode(fsys[src.Name])
				if _, err := x509.ParseCertificate(block.Bytes); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(benchCount*b.N)/time.Since(start).Seconds(), "certs/s")
	})
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var elapsed time.Duration
			var peak uint64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				st, err := store.Open(context.Background(), backends[name](b))
				if err != nil {
					b.Fatal(err)
				}
				s, _ := keys.NewSealer(nil, bytes.Repeat([]byte{3}, keys.MasterKeySize))
				im := New(st, s, nil, fsys.read)
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				base := ms.HeapInuse
				var p uint64
				stop := sampleHeap(&p)
				b.StartTimer()
				start := time.Now()
				if _, err := im.Import(context.Background(), "bench", srcs, nil); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				b.StopTimer()
				stop()
				st.Close()
				peak = max(peak, p-min(p, base))
			}
			b.ReportMetric(float64(benchCount*b.N)/elapsed.Seconds(), "certs/s")
			b.ReportMetric(float64(peak)/(1<<20), "heap-growth-MiB")
		})
	}
}

// sampleHeap records the largest HeapInuse seen every 10 ms until stopped.
func sampleHeap(peak *uint64) (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for !done.Load() {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > *peak {
				*peak = ms.HeapInuse
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return func() { done.Store(true); wg.Wait() }
}
