package monitor_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/monitor"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/settings"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
	"github.com/certkeeper/certkeeper/internal/truststore"
)

// farmConcurrency is the checks at a time of the farm pass and of the
// bare handshake loop it is compared with: the default
// monitor_concurrency.
const farmConcurrency = settings.DefaultMonitorConcurrency

// farmRig is the monitor as the server builds it (real settings, trust
// store and outbound dialer; the dialer's policy allows loopback only)
// over a real SQLite inventory holding one manual endpoint per listener
// of a loopback TLS farm, all due. The farm's certificate is in the
// inventory, marked as a trusted root, so every check passes.
type farmRig struct {
	farm  *testenv.TLSFarm
	st    inventory.Store
	svc   *monitor.Service
	clock *testenv.Clock
}

func newFarmRig(tb testing.TB, n int) *farmRig {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(tb.TempDir(), "certkeeper.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	r := &farmRig{farm: testenv.StartTLSFarm(tb, n), st: st, clock: testenv.NewClock(time.Now().UTC().Truncate(time.Second))}
	trust := truststore.New(st, truststore.Options{Now: r.clock.Now})
	res, err := st.PutCertificates(ctx, []*inventory.Certificate{inventory.NewCertificate(r.farm.Certificate, "test")})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := trust.Add(ctx, "test", res[0].ID); err != nil {
		tb.Fatal(err)
	}
	loopback, err := outbound.ParseRule("127.0.0.0/8")
	if err != nil {
		tb.Fatal(err)
	}
	r.svc = monitor.New(st, monitor.Config{Now: r.clock.Now, Trust: trust, Settings: settings.New(st, farmSealer(tb), r.clock.Now),
		Outbound: outbound.NewDialer(&outbound.Policy{Allow: []outbound.Rule{loopback}})})
	r.putEndpoints(tb)
	return r
}

func farmSealer(tb testing.TB) *keys.Sealer {
	tb.Helper()
	master := make([]byte, keys.MasterKeySize)
	rand.Read(master)
	sealer, err := keys.NewSealer(nil, master)
	if err != nil {
		tb.Fatal(err)
	}
	return sealer
}

// putEndpoints stores a manual endpoint per listener, due now, in one
// transaction.
func (r *farmRig) putEndpoints(tb testing.TB) {
	tb.Helper()
	start := time.Now()
	addrs := r.farm.Addrs()
	err := r.st.InTx(context.Background(), func(tx inventory.Store) error {
		for _, a := range addrs {
			e := &inventory.Endpoint{Address: a, ServerName: testenv.TLSFarmServerName, Source: inventory.EndpointManual,
				CreatedAt: r.clock.Now(), NextCheckAt: r.clock.Now()}
			if err := tx.PutEndpoint(context.Background(), e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("%d endpoints stored in %v", len(addrs), time.Since(start))
}

// pass makes every endpoint due (two days on) and runs one Pass.
func (r *farmRig) pass(tb testing.TB) {
	tb.Helper()
	r.clock.Advance(48 * time.Hour)
	if err := r.svc.Pass(context.Background()); err != nil {
		tb.Fatalf("Pass: %v", err)
	}
}

// checkAllPassed fails tb unless every endpoint has a result of the
// pass just made (at the clock's time), passed, and is due again later.
func (r *farmRig) checkAllPassed(tb testing.TB) {
	tb.Helper()
	all, err := r.st.AllEndpoints(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	now := r.clock.Now()
	bad := 0
	for _, e := range all {
		ok := e.Last != nil && e.Last.Check.Time.Equal(now) && e.Last.Status() == "ok" && e.Failures == 0 && e.NextCheckAt.After(now)
		if ok {
			continue
		}
		if bad++; bad <= 3 {
			tb.Errorf("endpoint %d (%s): result %+v, failures %d, next check %v; want a passed check at %v and a later next check",
				e.ID, e.Address, e.Last, e.Failures, e.NextCheckAt, now)
		}
	}
	if bad > 0 || len(all) != len(r.farm.Addrs()) {
		tb.Fatalf("%d of %d endpoints without a passed check of this pass (farm of %d)", bad, len(all), len(r.farm.Addrs()))
	}
}

// TestPassFarm is the farm benchmark at a size the test suite runs:
// one pass checks and records all 200 endpoints, every check passes,
// and a second pass (two days on) records a second result for each.
func TestPassFarm(t *testing.T) {
	const n = 200
	r := newFarmRig(t, n)
	for range 2 {
		r.pass(t)
		r.checkAllPassed(t)
	}
	h, _, err := r.st.EndpointHistory(context.Background(), 1, inventory.Page{Limit: 10})
	if err != nil || len(h) != 2 {
		t.Fatalf("history of endpoint 1: %d results, %v; want 2", len(h), err)
	}
}

// BenchmarkPassFarm is one monitoring pass over 10,000 endpoints of the
// loopback TLS farm, and in the same run the bare handshake loop over
// the same farm at the same concurrency, half of it just before the pass
// and half just after, so that both see the same load on a shared
// machine: the pass's time, both rates and their ratio (the pass's rate
// over the bare one). The process's CPU time per endpoint of each (the
// farm's servers included: they run in this process) is reported too,
// with its ratio (bare over pass), which the machine's load moves less.
func BenchmarkPassFarm(b *testing.B) {
	const n = 10000
	r := newFarmRig(b, n)
	var pass, bare phase
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		bare.add(b, func() { r.bare(b, n/2) })
		b.StartTimer()
		pass.add(b, func() { r.pass(b) })
		b.StopTimer()
		bare.add(b, func() { r.bare(b, n-n/2) })
		r.checkAllPassed(b)
		b.StartTimer()
	}
	b.StopTimer()
	total := float64(n * b.N)
	b.ReportMetric(pass.wall.Seconds()/float64(b.N), "s/pass")
	b.ReportMetric(total/pass.wall.Seconds(), "endpoints/s")
	b.ReportMetric(total/bare.wall.Seconds(), "bare-handshakes/s")
	b.ReportMetric(bare.wall.Seconds()/pass.wall.Seconds(), "ratio")
	b.ReportMetric(float64(pass.cpu.Microseconds())/total, "cpu-µs/endpoint")
	b.ReportMetric(float64(bare.cpu.Microseconds())/total, "bare-cpu-µs/handshake")
	b.ReportMetric(bare.cpu.Seconds()/pass.cpu.Seconds(), "cpu-ratio")
}

// phase sums the wall-clock and process CPU time of a benchmark's runs
// of one kind.
type phase struct{ wall, cpu time.Duration }

func (p *phase) add(tb testing.TB, fn func()) {
	tb.Helper()
	cpu0, start := processCPU(tb), time.Now()
	fn()
	p.wall += time.Since(start)
	p.cpu += processCPU(tb) - cpu0
}

// processCPU is the user and system CPU time the process has used.
func processCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bare makes n bare handshakes round the farm at the pass's concurrency.
func (r *farmRig) bare(tb testing.TB, n int) {
	tb.Helper()
	if _, failed := r.farm.BareHandshakes(context.Background(), n, farmConcurrency); failed != 0 {
		tb.Fatalf("bare loop: %d of %d handshakes failed", failed, n)
	}
}
