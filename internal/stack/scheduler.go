package stack

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/certkeeper/certkeeper/internal/access"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/revocation"
	"github.com/certkeeper/certkeeper/internal/scheduler"
	"github.com/certkeeper/certkeeper/internal/webtls"
)

// Job kinds the process's scheduler runs. The shared ones run once per
// slot, on the leader instance; the per-instance ones (their jobs are
// named KIND@INSTANCE) on every instance, for what each keeps in its own
// data directory and memory.
const (
	// JobCRLRefresh replaces due CRLs and stale OCSP responder
	// certificates (revocation.Refresher.RunOnce): at start, every
	// revocation.DefaultCheckInterval, and at once after a failed
	// post-revocation refresh. Shared.
	JobCRLRefresh = "crl-refresh"
	// JobMonitor checks the monitored endpoints that are due
	// (monitor.Service.Pass): every minute, 10 seconds of jitter. Shared.
	JobMonitor = "monitor"
	// JobAlerts evaluates the alert rules (alert.Service.Evaluate) every
	// AlertsEvery, and after every monitoring pass that checked an
	// endpoint. Shared.
	JobAlerts = "alerts"
	// JobDigest sends the day's digest once its time of day has passed
	// (digest.Service.RunDue): every DigestEvery. Shared.
	JobDigest = "digest"
	// JobSessionExpiry deletes ended web sessions: at start and every ten
	// minutes. Shared.
	JobSessionExpiry = "session-expiry"
	// JobWebCertificate looks at DATA-DIR/certs/web-server.pem and renews
	// the default HTTPS certificate when due: every webtls.DefaultPoll.
	// Per instance.
	JobWebCertificate = "web-certificate"
	// JobAgentCertificate does the same for the agent endpoint's
	// certificates: every agent.DefaultPoll. Per instance, when the agent
	// listener is on.
	JobAgentCertificate = "agent-certificate"
	// JobAllowList reloads DATA-DIR/allowlist.txt when it changed: every
	// access.DefaultPoll. Per instance.
	JobAllowList = "allow-list"
	// JobOutboundPolicy reloads the outbound policy from the inventory
	// into this instance's dialer: every 30 seconds. Per instance.
	JobOutboundPolicy = "outbound-policy"
)

// AlertsEvery is the time between alert evaluations.
const AlertsEvery = 5 * time.Minute

// DigestEvery is the time between looks at whether the digest is due:
// the digest goes out at most this long after its time of day.
const DigestEvery = 15 * time.Minute

// sessionExpiryEvery and outboundEvery are the schedules of
// JobSessionExpiry and JobOutboundPolicy.
const (
	sessionExpiryEvery = 10 * time.Minute
	outboundEvery      = 30 * time.Second
	agentEvery         = 5 * time.Second
)

// schedule builds the process's scheduler over the inventory's jobs and
// hands it to the API. Its slots follow the wall clock, as the loops'
// tickers did; what is due inside a job is judged by the services' own
// clock. agentRefresh is the agent endpoint's certificate refresh, nil
// when the agent listener is off.
func (p *Process) schedule(agentRefresh func(context.Context) error) error {
	jobs, ok := p.Store.(inventory.JobStore)
	if !ok {
		return errors.New("stack: the inventory keeps no scheduler jobs")
	}
	pc := p.cfg.Process
	kinds, err := p.kinds(agentRefresh, pc.JobEvery)
	if err != nil {
		return err
	}
	s, err := scheduler.New(jobs, kinds, scheduler.Config{Owner: p.instance, Poll: pc.SchedulerPoll}, p.log)
	if err != nil {
		return err
	}
	p.Scheduler = s
	p.UseScheduler(s)
	return nil
}

// UseScheduler makes s the scheduler the API shows and runs jobs of
// (/api/v1/jobs). A Process calls it with its own; until then, and in a
// Stack without a Process, the job routes show the inventory's jobs.
func (s *Stack) UseScheduler(sch *scheduler.Scheduler) { s.jobs.set(sch) }

// kinds lists the process's job kinds, with every's intervals in place of
// the built-in ones.
func (p *Process) kinds(agentRefresh func(context.Context) error, every map[string]time.Duration) ([]scheduler.Kind, error) {
	crl := revocation.NewRefresher(p.Revocation, nil, p.log)
	kinds := []scheduler.Kind{
		{Name: JobCRLRefresh, Run: crl.RunOnce, Every: revocation.DefaultCheckInterval, AtStart: true, Wake: crl.Wake()},
		{Name: JobMonitor, Run: p.Monitor.Pass, Every: time.Minute, Jitter: 10 * time.Second},
		{Name: JobAlerts, Run: p.evaluateAlerts, Every: AlertsEvery, Wake: p.alertsWake},
		{Name: JobDigest, Run: p.sendDigest, Every: DigestEvery, AtStart: true},
		{Name: JobSessionExpiry, Run: p.expireSessions, Every: sessionExpiryEvery, AtStart: true},
		{Name: JobWebCertificate, Run: p.Web.RunOnce, Every: webtls.DefaultPoll, PerInstance: true},
		{Name: JobAllowList, Run: p.Allow.RunOnce, Every: access.DefaultPoll, PerInstance: true},
		{Name: JobOutboundPolicy, Run: p.Outbound.Load, Every: outboundEvery, PerInstance: true},
	}
	if agentRefresh != nil {
		kinds = append(kinds, scheduler.Kind{Name: JobAgentCertificate, Run: agentRefresh, Every: agentEvery, PerInstance: true})
	}
	for name, d := range every {
		if i := kindIndex(kinds, name); i >= 0 {
			kinds[i].Every, kinds[i].Jitter = d, 0
		}
	}
	return kinds, nil
}

// jobKinds are the names ProcessConfig.JobEvery may use.
func jobKinds() []string {
	return []string{JobCRLRefresh, JobMonitor, JobAlerts, JobDigest, JobSessionExpiry, JobWebCertificate, JobAgentCertificate, JobAllowList, JobOutboundPolicy}
}

// checkJobEvery refuses an interval for an unknown kind, or one that is
// not positive, before the process creates anything.
func checkJobEvery(every map[string]time.Duration) error {
	for name, d := range every {
		if !slices.Contains(jobKinds(), name) {
			return fmt.Errorf("stack: job interval for %q: no such job kind (known: %s)", name, strings.Join(jobKinds(), ", "))
		}
		if d <= 0 {
			return fmt.Errorf("stack: job interval for %q: want a positive duration", name)
		}
	}
	return nil
}

func kindIndex(kinds []scheduler.Kind, name string) int {
	for i, k := range kinds {
		if k.Name == name {
			return i
		}
	}
	return -1
}

// expireSessions deletes ended web sessions.
func (p *Process) expireSessions(ctx context.Context) error {
	n, err := p.Users.ExpireSessions(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		p.log.Info("web sessions expired", "count", n)
	}
	return nil
}

// jobsRef is the API's scheduler: the process's, once it is built. Until
// then, and in a Stack without a Process (the local command line), it is
// a view of the jobs kept in the inventory: a scheduler of no kinds of
// its own, which never runs, lists every job the running instances keep
// there and records run-now requests for them to serve.
// scheduler.ErrNotRunning answers when the inventory keeps no jobs.
type jobsRef struct {
	s    atomic.Pointer[scheduler.Scheduler]
	view *scheduler.Scheduler
}

// newJobsRef returns the reference with the inventory's view of st.
func newJobsRef(st inventory.Store, cfg Config) *jobsRef {
	r := &jobsRef{}
	if js, ok := st.(inventory.JobStore); ok {
		r.view, _ = scheduler.New(js, nil, scheduler.Config{Owner: LocalInstance, Now: cfg.Now}, cfg.Log)
	}
	return r
}

// LocalInstance names the local command line in the job overview it
// shows: it runs no job itself.
const LocalInstance = "local"

func (r *jobsRef) set(s *scheduler.Scheduler) { r.s.Store(s) }

func (r *jobsRef) get() (*scheduler.Scheduler, error) {
	if s := r.s.Load(); s != nil {
		return s, nil
	}
	if r.view != nil {
		return r.view, nil
	}
	return nil, scheduler.ErrNotRunning
}

// Overview implements api.Jobs.
func (r *jobsRef) Overview(ctx context.Context) (scheduler.Overview, error) {
	s, err := r.get()
	if err != nil {
		return scheduler.Overview{}, err
	}
	return s.Overview(ctx)
}

// RequestRun implements api.Jobs.
func (r *jobsRef) RequestRun(ctx context.Context, actor, kind string) error {
	s, err := r.get()
	if err != nil {
		return err
	}
	return s.RequestRun(ctx, actor, kind)
}

// Runs implements api.Jobs.
func (r *jobsRef) Runs(ctx context.Context, kind string, limit int) ([]inventory.JobRunRecord, error) {
	s, err := r.get()
	if err != nil {
		return nil, err
	}
	return s.Runs(ctx, kind, limit)
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
