package api_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/dashboard"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/stack/stacktest"
	"github.com/certkeeper/certkeeper/internal/store"
)

// BenchmarkDashboard measures GET /api/v1/dashboard at 100,000
// certificates (the data set of BenchmarkListCertificatesAPI, on SQLite):
// through the real handler on a loopback server with the client package,
// one request per iteration. It reports the p50 and p95 latency, and
// those of the timeline alone read from the store (timeline-p50-ms,
// timeline-p95-ms).
func BenchmarkDashboard(b *testing.B) {
	ctx := context.Background()
	database, token := apiBenchStore(b, "sqlite")
	st, err := store.Open(ctx, database)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	a := stacktest.New(b, st, stack.Config{Log: slog.New(slog.DiscardHandler)}).API
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	c, err := client.New(srv.URL, token)
	if err != nil {
		b.Fatal(err)
	}

	d, err := c.Dashboard(ctx) // warm up, and check the data set shows
	if err != nil || len(d.Timeline) != dashboard.TimelineDays || d.Counts.Valid == 0 || d.Counts.Expiring30 == 0 {
		b.Fatalf("Dashboard = %+v, %v; want %d days and valid, expiring certificates", d, err, dashboard.TimelineDays)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		_, err := c.Dashboard(ctx)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()

	tl := make([]time.Duration, 0, b.N)
	for range b.N {
		start := time.Now()
		// The timeline's query: package dashboard's filter of valid leaf
		// certificates not issued for certkeeper itself.
		at := time.Now().UTC()
		f := inventory.CertificateFilter{Status: inventory.StatusValid, At: at, LeafOnly: true, ExcludeInternal: true}
		if _, err := st.CountCertificatesByDay(ctx, f, at, dashboard.TimelineDays); err != nil {
			b.Fatal(err)
		}
		tl = append(tl, time.Since(start))
	}
	b.ReportMetric(quantileMS(lat, 0.50), "p50-ms")
	b.ReportMetric(quantileMS(lat, 0.95), "p95-ms")
	b.ReportMetric(quantileMS(tl, 0.50), "timeline-p50-ms")
	b.ReportMetric(quantileMS(tl, 0.95), "timeline-p95-ms")
}
