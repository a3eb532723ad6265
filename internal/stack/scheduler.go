package stack

import (
	"context"
	"errors"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/revocation"
	"github.com/certkeeper/certkeeper/internal/scheduler"
)

// Job kinds the process's scheduler runs.
const (
	// JobCRLRefresh replaces due CRLs and stale OCSP responder
	// certificates (revocation.Refresher.RunOnce): at start, every
	// revocation.DefaultCheckInterval, and at once after a failed
	// post-revocation refresh.
	JobCRLRefresh = "crl-refresh"
	// JobMonitor checks the monitored endpoints that are due
	// (monitor.Service.Pass): every minute, 10 seconds of jitter.
	JobMonitor = "monitor"
	// JobAlerts evaluates the alert rules (alert.Service.Evaluate) every
	// AlertsEvery, and after every monitoring pass that checked an
	// endpoint.
	JobAlerts = "alerts"
)

// AlertsEvery is the time between alert evaluations.
const AlertsEvery = 5 * time.Minute

// schedule builds the process's scheduler over the inventory's jobs.
// Its slots follow the wall clock, as the loops' tickers did; what is
// due inside a job is judged by the services' own clock.
func (p *Process) schedule() error {
	jobs, ok := p.Store.(inventory.JobStore)
	if !ok {
		return errors.New("stack: the inventory keeps no scheduler jobs")
	}
	crl := revocation.NewRefresher(p.Revocation, nil, p.log)
	s, err := scheduler.New(jobs, []scheduler.Kind{
		{Name: JobCRLRefresh, Run: crl.RunOnce, Every: revocation.DefaultCheckInterval, AtStart: true, Wake: crl.Wake()},
		{Name: JobMonitor, Run: p.Monitor.Pass, Every: time.Minute, Jitter: 10 * time.Second},
		{Name: JobAlerts, Run: p.evaluateAlerts, Every: AlertsEvery, Wake: p.alertsWake},
	}, scheduler.Config{}, p.log)
	p.Scheduler = s
	return err
}

// evaluateAlerts runs one alert evaluation and logs what changed.
func (p *Process) evaluateAlerts(ctx context.Context) error {
	res, err := p.Alerts.Evaluate(ctx)
	if res != nil && res.Fired+res.Changed+res.Repeated+res.Resolved > 0 {
		p.log.Info("alerts evaluated", "fired", res.Fired, "changed", res.Changed, "repeated", res.Repeated,
			"resolved", res.Resolved, "sent", res.Sent, "open", res.Open)
	}
	return err
}
