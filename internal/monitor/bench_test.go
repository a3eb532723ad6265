package monitor_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/monitor"
	"github.com/certkeeper/certkeeper/internal/store"
)

// BenchmarkRunNow checks 500 endpoints (one real TLS server on loopback
// under 500 server names) with the default concurrency, recording every
// result in SQLite: the cost of one monitoring pass per endpoint.
func BenchmarkRunNow(b *testing.B) {
	const endpoints = 500
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "certkeeper.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	b.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "https://")
	svc := monitor.New(st, monitor.Config{})
	for i := range endpoints {
		if _, err := svc.Add(ctx, "bench", monitor.AddRequest{Address: addr, ServerName: fmt.Sprintf("e%d.example.test", i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		got, err := svc.RunNow(ctx, nil, nil)
		if err != nil || len(got) != endpoints || got[0].Last == nil {
			b.Fatalf("RunNow: %d endpoints, %v", len(got), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*endpoints), "µs/endpoint")
}
