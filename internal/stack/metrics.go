package stack

import (
	"github.com/certkeeper/certkeeper/internal/api"
	"github.com/certkeeper/certkeeper/internal/metrics"
	"github.com/certkeeper/certkeeper/internal/server"
)

// metricsHandlers returns the Prometheus exporter's handlers: open on the
// metrics listener, behind an API token of MetricsRole on the HTTPS one.
func (p *Process) metricsHandlers() *server.MetricsHandlers {
	h := metrics.New(p.metricsSources(), metrics.Config{Log: p.log}).Handler()
	return &server.MetricsHandlers{Open: h, Token: p.API.RequireToken(api.MetricsRole, h)}
}

// metricsSources are what the exporter reads at each scrape. The
// scheduler is built after the server, and before Run serves a scrape.
func (p *Process) metricsSources() metrics.Sources {
	return metrics.Sources{
		Endpoints:    p.Store.AllEndpoints,
		Certificates: p.Store.DefinitionCertificates,
		Alerts:       p.Alerts.FiringByRule,
		Leader:       func() bool { return p.Scheduler != nil && p.Scheduler.Leader() },
		RunTotals:    p.runTotals,
	}
}

// runTotals are the scheduler's run counters as the exporter takes them.
func (p *Process) runTotals() []metrics.RunTotal {
	if p.Scheduler == nil {
		return nil
	}
	totals := p.Scheduler.RunTotals()
	out := make([]metrics.RunTotal, len(totals))
	for i, t := range totals {
		out[i] = metrics.RunTotal(t)
	}
	return out
}
