package alert_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/certkeeper/certkeeper/internal/alert"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// BenchmarkEvaluate measures one evaluation over 10,000 endpoints, one in
// ten of them with an open alert, in the steady state where nothing
// changes (the every-5-minutes case): the facts are read, the conditions
// computed, and nothing is written or sent.
func BenchmarkEvaluate(b *testing.B) {
	e := newEnv(b, start)
	ok := e.pki.leaf("www.example.com", start.Add(-10*day), 90*day)
	soon := e.pki.leaf("www.example.com", start.Add(-80*day), 90*day)
	for i := range int64(10000) {
		leaf := ok
		if i%10 == 0 {
			leaf = soon
		}
		s := e.web(i+1, leaf)
		s.ep.Address = fmt.Sprintf("host%d.example.com:443", i)
		s.ep.Labels = []string{"prod"}
		e.eps.set(s)
	}
	ctx := context.Background()
	// The endpoints are judged once: the benchmark measures the service,
	// not the test's certificate checks.
	eps, err := e.eps.AllEndpoints(ctx)
	if err != nil {
		b.Fatal(err)
	}
	e.svc = alert.New(e.st, alert.Options{Endpoints: fixed(eps), Notifier: e.sent, Settings: e.settings, Now: e.clock.Now})
	first, err := e.svc.Evaluate(ctx)
	if err != nil || first.Fired != 1000 {
		b.Fatalf("first Evaluate = %+v, %v; want 1000 alerts fired", first, err)
	}
	e.sent.take()
	b.ResetTimer()
	for b.Loop() {
		res, err := e.svc.Evaluate(ctx)
		if err != nil || res.Fired+res.Resolved+res.Repeated+res.Changed != 0 {
			b.Fatalf("steady Evaluate = %+v, %v; want nothing changed", res, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/10000, "µs/endpoint")
}

// fixed serves the same endpoints every time.
type fixed []inventory.Endpoint

func (f fixed) AllEndpoints(ctx context.Context) ([]inventory.Endpoint, error) { return f, ctx.Err() }
