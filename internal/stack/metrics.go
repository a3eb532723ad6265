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

// metricsSources are what the exporter reads at each scrape. A source
// left nil (the scheduler's Leader and RunTotals until it is wired) is
// left out of the page.
func (p *Process) metricsSources() metrics.Sources {
	return metrics.Sources{
		Endpoints:    p.Store.AllEndpoints,
		Certificates: p.Store.DefinitionCertificates,
		Alerts:       p.Alerts.FiringByRule,
	}
}
