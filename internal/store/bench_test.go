package store

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const (
	benchCerts = 100_000
	benchBatch = 500
)

// benchCA is the issuer of the benchmark certificates; storing it first
// makes every import resolve an issuer link.
func benchCA() *inventory.Certificate {
	ca := fakeCertificate(-1, &inventory.Certificate{}, time.Now().Add(5*365*24*time.Hour))
	ca.Subject, ca.Issuer, ca.IsCA, ca.SelfSigned, ca.AuthorityKeyID = "CN=Bench CA", "CN=Bench CA", true, true, ""
	return ca
}

// benchNotAfter spreads n certificates over two years, from six months ago
// to eighteen months ahead.
func benchNotAfter(now time.Time, i int) time.Time {
	span := 2 * 365 * 24 * time.Hour
	return now.Add(-span/4 + time.Duration(int64(span)/benchCerts*int64((i*7919)%benchCerts)))
}

// importBench stores benchCerts certificates in batches of benchBatch.
// The records are built per batch (about 1 µs each), so the heap holds
// only what the store itself needs.
func importBench(tb testing.TB, s inventory.Store, ca *inventory.Certificate, now time.Time) {
	ctx := context.Background()
	recs := make([]*inventory.Certificate, benchBatch)
	for start := 0; start < benchCerts; start += benchBatch {
		for j := range recs {
			i := start + j
			recs[j] = fakeCertificate(i, ca, benchNotAfter(now, i))
			if i%10 == 0 {
				recs[j].Labels = []string{"prod"}
			}
		}
		if _, err := s.PutCertificates(ctx, recs); err != nil {
			tb.Fatalf("PutCertificates at %d: %v", start, err)
		}
	}
}

// heapPeak samples the live heap until stop is called and returns the
// largest HeapAlloc seen.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapAlloc > peak.Load() {
			peak.Store(m.HeapAlloc)
		}
	}
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		return peak.Load()
	}
}

// BenchmarkPutCertificates imports 100,000 certificates into an empty
// store in batches of 500 and reports certificates per second and the
// peak live heap.
func BenchmarkPutCertificates(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			var elapsed time.Duration
			var peak uint64
			for range b.N {
				b.StopTimer()
				s := openStore(b, be, be.fresh(b))
				ca := benchCA()
				if _, err := s.PutCertificates(context.Background(), []*inventory.Certificate{ca}); err != nil {
					b.Fatal(err)
				}
				runtime.GC()
				stop := heapPeak()
				start := time.Now()
				b.StartTimer()
				importBench(b, s, ca, time.Now())
				b.StopTimer()
				elapsed += time.Since(start)
				peak = max(peak, stop())
				s.Close()
			}
			b.ReportMetric(float64(benchCerts*b.N)/elapsed.Seconds(), "certs/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}

// BenchmarkListExpiring measures, with 100,000 certificates stored, the
// first page of 100 certificates expiring within 30 days plus their
// count (what "list --expiring-within 30d" needs), a page 50,000
// certificates deep reached by cursor, and for comparison a label filter
// with its count. Text searches are measured by
// BenchmarkListCertificates.
func BenchmarkListExpiring(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := openStore(b, be, be.fresh(b))
			now := time.Now()
			ca := benchCA()
			if _, err := s.PutCertificates(context.Background(), []*inventory.Certificate{ca}); err != nil {
				b.Fatal(err)
			}
			importBench(b, s, ca, now)
			expiring := inventory.CertificateFilter{ExpiringBefore: now.Add(30 * 24 * time.Hour), NotExpiredAt: now}
			b.Run("first-page+count", func(b *testing.B) { benchFirstPage(b, s, expiring, 100) })
			b.Run("deep-page", func(b *testing.B) { benchDeepPage(b, s) })
			b.Run("label+count", func(b *testing.B) {
				benchFirstPage(b, s, inventory.CertificateFilter{Label: "prod", NotExpiredAt: now}, 100)
			})
		})
	}
}

// benchFirstPage lists the first page of 100 that f selects and counts
// them; a page must hold at least want items.
func benchFirstPage(b *testing.B, s inventory.Store, f inventory.CertificateFilter, want int) {
	ctx := context.Background()
	for b.Loop() {
		page, err := s.ListCertificates(ctx, f, inventory.Page{Limit: 100})
		if err != nil {
			b.Fatal(err)
		}
		n, err := s.CountCertificates(ctx, f)
		if err != nil || len(page.Items) < want || n < len(page.Items) {
			b.Fatalf("got %d items, count %d, %v; want at least %d items", len(page.Items), n, err, want)
		}
	}
}

func benchDeepPage(b *testing.B, s inventory.Store) {
	ctx := context.Background()
	d := dbOf(s)
	var notAfter time.Time
	var id int64
	err := d.rdb.QueryRow("SELECT not_after, id FROM certificates ORDER BY not_after, id LIMIT 1 OFFSET 50000").
		Scan(timeCol{&notAfter}, &id)
	if err != nil {
		b.Fatal(err)
	}
	p := inventory.Page{After: encodeCursor(notAfter.Unix(), id), Limit: 100}
	for b.Loop() {
		page, err := s.ListCertificates(ctx, inventory.CertificateFilter{}, p)
		if err != nil || len(page.Items) != 100 || !page.Items[0].NotAfter.After(notAfter.Add(-time.Second)) {
			b.Fatalf("deep page: %d items, %v", len(page.Items), err)
		}
	}
}

// listBenchCase is one filtered first page BenchmarkListCertificates asks
// for.
type listBenchCase struct {
	name string
	f    inventory.CertificateFilter
}

// listBenchCases is the mix of filters the REST API's certificate list
// sends, at 100,000 certificates imported at now by importBench.
func listBenchCases(now time.Time) []listBenchCase {
	month := now.Add(30 * 24 * time.Hour)
	fp := fakeCertificate(54321, &inventory.Certificate{}, now).SHA256
	return []listBenchCase{
		{"text-host", inventory.CertificateFilter{Text: "host-4242"}},
		{"text-san-middle", inventory.CertificateFilter{Text: "st-7777.exa"}},
		{"text-fingerprint", inventory.CertificateFilter{Text: fp[8:10] + ":" + fp[10:12] + ":" + fp[12:14] + ":" + fp[14:16]}},
		{"text-broad", inventory.CertificateFilter{Text: "www.host-1"}},
		{"text-all", inventory.CertificateFilter{Text: "example.test"}},
		{"text+valid", inventory.CertificateFilter{Text: "host-99", Status: inventory.StatusValid}},
		{"status-valid", inventory.CertificateFilter{Status: inventory.StatusValid}},
		{"status-expired", inventory.CertificateFilter{Status: inventory.StatusExpired}},
		{"issuer", inventory.CertificateFilter{Issuer: "bench ca"}},
		{"label+expiring", inventory.CertificateFilter{Label: "prod", ExpiringBefore: month, NotExpiredAt: now}},
		{"expiring+valid", inventory.CertificateFilter{ExpiringBefore: month, Status: inventory.StatusValid}},
		{"text+label+valid", inventory.CertificateFilter{Text: "host-12", Label: "prod", Status: inventory.StatusValid}},
	}
}

// BenchmarkListCertificates measures, with 100,000 certificates stored,
// the first page of 50 for each filter of listBenchCases and for all of
// them in turn ("mix"), and reports the median and 95th percentile
// latency.
func BenchmarkListCertificates(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			s := openStore(b, be, be.fresh(b))
			now := time.Now()
			ca := benchCA()
			if _, err := s.PutCertificates(context.Background(), []*inventory.Certificate{ca}); err != nil {
				b.Fatal(err)
			}
			importBench(b, s, ca, now)
			cases := listBenchCases(now)
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) { benchList(b, s, []listBenchCase{c}) })
			}
			b.Run("mix", func(b *testing.B) { benchList(b, s, cases) })
		})
	}
}

// benchList lists the first page of 50 of each case in turn and reports
// p50 and p95 of the calls.
func benchList(b *testing.B, s inventory.Store, cases []listBenchCase) {
	ctx := context.Background()
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		c := cases[i%len(cases)]
		start := time.Now()
		page, err := s.ListCertificates(ctx, c.f, inventory.Page{Limit: 50})
		lat = append(lat, time.Since(start))
		if err != nil || len(page.Items) == 0 {
			b.Fatalf("%s: %d items, %v", c.name, len(page.Items), err)
		}
	}
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
}
