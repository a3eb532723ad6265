package stack_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/alert"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/monitor"
	"github.com/certkeeper/certkeeper/internal/notify"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/settings"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/stack/stacktest"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// The four problems TestWatch makes, each on its own endpoint.
const (
	probExpiring = "expiring"  // the served certificate nears its end
	probWrong    = "wrong"     // the server serves another certificate than the expected one
	probChain    = "chain"     // the server drops its intermediate
	probSilent   = "silent"    // the server stops answering
	watchSecret  = "whsec-e2e" // the generic channel's signing secret
	watchAdmin   = "pki@watch.test"
	roundStep    = 2 * time.Minute // more than an endpoint's interval (1 min) plus its jitter (10 %)
)

// wantRule is the one alert rule each problem must fire.
var wantRule = map[string]string{
	probExpiring: alert.RuleLeafExpiry,
	probWrong:    alert.RuleNotExpected,
	probChain:    alert.RuleIntermediatesMissing,
	probSilent:   alert.RuleUnreachable,
}

// watch is a running certkeeper process watching four real TLS servers,
// with its scheduler running the monitor pass and the alert evaluation,
// and the three places its notices arrive.
type watch struct {
	t       *testing.T
	ctx     context.Context
	clock   *testenv.Clock
	p       *stack.Process
	ca      *testenv.OpenSSLCA
	smtp    *testenv.SMTPServer
	hook    *receiver
	chat    *receiver
	servers map[string]*sServer
	eps     map[string]*inventory.Endpoint
	metrics string
}

// TestWatch proves monitoring and alerting end to end, with nobody
// asking: the scheduler of a real process checks four real servers
// (openssl s_server, certificates from an openssl CA with an
// intermediate) on its own and evaluates the alerts after each pass.
// Each problem (a certificate near its end, the wrong certificate, a
// missing intermediate, a server gone silent for the rule's three runs)
// fires exactly one alert and exactly one firing message on each of a
// signed generic webhook, a Slack webhook and e-mail through a real SMTP
// server; later runs send nothing; fixing each sends exactly one resolved
// message per alert and channel. The Prometheus page follows.
func TestWatch(t *testing.T) {
	w := startWatch(t)
	w.startServers()
	w.configure()
	w.addEndpoints()

	w.round()
	w.assertOpen(probExpiring, probWrong, probChain)
	w.assertMessages("firing", probExpiring, probWrong, probChain)
	w.servers[probSilent].Stop()
	for range 3 { // endpoint-unreachable's threshold: 3 runs in a row
		w.round()
	}
	w.assertOpen(probExpiring, probWrong, probChain, probSilent)
	w.assertMessages("firing", probExpiring, probWrong, probChain, probSilent)
	w.assertQuiet()
	w.assertMetrics(map[string]int{probExpiring: 1, probWrong: 0, probChain: 0, probSilent: 0}, 1)

	w.fix()
	w.round()
	w.assertOpen()
	w.assertMessages("resolved", probExpiring, probWrong, probChain, probSilent)
	w.assertMessages("firing", probExpiring, probWrong, probChain, probSilent)
	w.assertQuiet()
	w.assertMetrics(map[string]int{probExpiring: 1, probWrong: 1, probChain: 1, probSilent: 1}, 0)
}

// startWatch runs a process whose services read clock, with the
// scheduler polling every 100 ms and the monitor and alert jobs due every
// 300 ms of wall time; what is due inside them follows clock.
func startWatch(t *testing.T) *watch {
	// The clock starts 17 hours ahead, so that the one-day certificate
	// issued now has 7 hours left: inside leaf-expiry's warning third.
	w := &watch{t: t, ctx: context.Background(), clock: testenv.NewClock(time.Now().Add(17 * time.Hour).Truncate(time.Second)),
		servers: map[string]*sServer{}, eps: map[string]*inventory.Endpoint{}}
	cfg := loopbackConfig(t.TempDir(), io.Discard)
	cfg.Now, cfg.Log = w.clock.Now, stacktest.Logger(t)
	cfg.Process.MetricsListen = "127.0.0.1:0"
	cfg.Process.SchedulerPoll = 100 * time.Millisecond
	cfg.Process.JobEvery = map[string]time.Duration{stack.JobMonitor: 300 * time.Millisecond, stack.JobAlerts: 300 * time.Millisecond}
	p, err := stack.NewProcess(w.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	w.p, w.metrics = p, "http://"+p.Addr(stack.ListenerMetrics).String()+"/metrics"
	t.Cleanup(func() {
		if t.Failed() {
			w.diag()
		}
	})
	w.smtp = testenv.NewSMTPServer(t, testenv.SMTPOptions{})
	w.hook, w.chat = startGenericReceiver(t, watchSecret, w.clock), startSlackReceiver(t)
	return w
}

// startServers issues the certificates and starts the four servers, each
// with its problem except the silent one, which answers until stopped.
func (w *watch) startServers() {
	w.ca = testenv.NewOpenSSLCA(w.t, "Watch")
	for _, base := range []string{probExpiring, probWrong, "wrong-other", probChain, probSilent} {
		w.ca.Sign(base, w.ca.ForeignCSR(base, nameOf(base)), "serverAuth", "DNS:"+nameOf(base))
		w.servers[base] = newSServer(w.t, w.ca.Dir)
	}
	w.reissue(probExpiring, "expiring-short", 1)
	w.servers[probExpiring].Serve("expiring-short.pem", "expiring.key", true)
	w.servers[probWrong].Serve("wrong-other.pem", "wrong-other.key", true)
	w.servers[probChain].Serve("chain.pem", "chain.key", false)
	w.servers[probSilent].Serve("silent.pem", "silent.key", true)
}

// nameOf is the DNS name of a problem's server ("wrong-other" serves the
// same name as "wrong", with another key).
func nameOf(base string) string {
	return strings.TrimSuffix(base, "-other") + ".watch.test"
}

// reissue has the intermediate sign BASE's request again, valid days, as
// OUT.pem: a renewal for the same key.
func (w *watch) reissue(base, out string, days int) {
	w.ca.Run("x509", "-req", "-in", base+".csr", "-CA", "intermediate.pem", "-CAkey", "intermediate.key",
		"-set_serial", fmt.Sprintf("0x7e%x", time.Now().UnixNano()), "-days", fmt.Sprint(days), "-sha256",
		"-extfile", base+".ext", "-out", out+".pem")
}

// configure sets what an admin would: the admin e-mail and SMTP server,
// an outbound policy allowing loopback, the test CA's root trusted, a
// signed generic channel and a Slack one, and the label "e2e" routed to
// both.
func (w *watch) configure() {
	admin := ca.Requester{Name: "user:admin", Role: inventory.RoleAdmin}
	email, host, none := watchAdmin, w.smtp.Addr, settings.SecurityNone
	_, err := w.p.Settings.Update(w.ctx, admin.Name, settings.Update{AdminEmail: &email, SMTPHost: &host, Security: &none})
	w.must(err)
	loopback, err := outbound.ParseRule("127.0.0.0/8")
	w.must(err)
	_, err = w.p.Outbound.Set(w.ctx, admin.Name, &outbound.Policy{Allow: []outbound.Rule{loopback}})
	w.must(err)
	root := w.store(w.ca.Read("root.pem"))
	w.store(w.ca.Read("intermediate.pem"))
	_, err = w.p.Trust.Add(w.ctx, admin.Name, root)
	w.must(err)
	_, err = w.p.Notify.Add(w.ctx, admin, notify.ChannelInput{Name: "hook", URL: w.hook.URL, Secret: watchSecret})
	w.must(err)
	_, err = w.p.Notify.Add(w.ctx, admin, notify.ChannelInput{Name: "chat", Format: "slack", URL: w.chat.URL})
	w.must(err)
	_, err = w.p.Alerts.SetRoutes(w.ctx, admin, alert.Routes{"e2e": {"hook", "chat"}})
	w.must(err)
}

// store puts a PEM certificate into the inventory and returns its ID.
func (w *watch) store(pemBytes []byte) int64 {
	res, err := w.p.Store.PutCertificates(w.ctx, []*inventory.Certificate{
		inventory.NewCertificate(testenv.ParseCertPEM(w.t, pemBytes), "test")})
	w.must(err)
	return res[0].ID
}

// addEndpoints watches the four servers every minute, labelled "e2e":
// the wrong and chain servers against the certificate they should serve
// (stored with its intermediate), the others accepting any leaf.
func (w *watch) addEndpoints() {
	for _, prob := range []string{probExpiring, probWrong, probChain, probSilent} {
		r := monitor.AddRequest{Address: w.servers[prob].Addr, ServerName: nameOf(prob), Interval: time.Minute,
			Labels: []string{"e2e"}}
		if prob == probWrong || prob == probChain {
			r.CertificateID = w.store(w.ca.Read(prob + ".pem"))
		}
		e, err := w.p.Monitor.Add(w.ctx, "user:admin", r)
		w.must(err)
		w.eps[prob] = e
	}
}

// fix undoes every problem: a renewed certificate, the expected one, the
// chain back, the server started again.
func (w *watch) fix() {
	w.reissue(probExpiring, "expiring-renewed", 10)
	w.servers[probExpiring].Serve("expiring-renewed.pem", "expiring.key", true)
	w.servers[probWrong].Serve("wrong.pem", "wrong.key", true)
	w.servers[probChain].Serve("chain.pem", "chain.key", true)
	w.servers[probSilent].Serve("silent.pem", "silent.key", true)
}

func (w *watch) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// round moves the clock past every endpoint's next check, waits for the
// scheduler's monitor pass to have checked them all at the new time, and
// then for an alert evaluation that started after that.
func (w *watch) round() {
	w.t.Helper()
	w.clock.Advance(roundStep)
	mark := w.clock.Now()
	testenv.WaitFor(w.t, 20*time.Second, "the monitor job to check every endpoint at "+mark.String(), func() bool {
		all, err := w.p.Store.AllEndpoints(w.ctx)
		w.must(err)
		for _, e := range all {
			if e.Last == nil || e.Last.Check.Time.Before(mark) {
				return false
			}
		}
		return len(all) == len(w.eps)
	})

	w.waitAlertRuns(2) // the first may have started before the last check was recorded
}

// waitAlertRuns waits until the scheduler has finished n more runs of the
// alerts job, and fails if any of them failed.
func (w *watch) waitAlertRuns(n uint64) {
	w.t.Helper()
	before := w.alertRuns()
	testenv.WaitFor(w.t, 20*time.Second, fmt.Sprintf("%d more runs of the alerts job", n), func() bool {
		return sumRuns(w.alertRuns()) >= sumRuns(before)+n
	})
	if after := w.alertRuns(); after["ok"] != sumRuns(after) {
		runs, _ := w.p.Scheduler.Runs(w.ctx, stack.JobAlerts, 10)
		w.t.Fatalf("alerts job runs by result = %v, want all ok; recent runs: %+v", after, runs)
	}
}

// alertRuns counts the alerts job's finished runs by result.
func (w *watch) alertRuns() map[string]uint64 {
	out := map[string]uint64{}
	for _, rt := range w.p.Scheduler.RunTotals() {
		if rt.Job == stack.JobAlerts {
			out[rt.Result] += rt.Count
		}
	}
	return out
}

func sumRuns(m map[string]uint64) uint64 {
	var n uint64
	for _, c := range m {
		n += c
	}
	return n
}

// assertOpen checks that the open alerts are exactly one per problem
// given, of the problem's rule on its endpoint.
func (w *watch) assertOpen(probs ...string) {
	w.t.Helper()
	open, _, err := w.p.Alerts.List(w.ctx, "open", inventory.Page{})
	w.must(err)
	got := map[string]string{}
	for _, a := range open {
		got[a.Subject+" "+a.Rule] = string(a.State)
	}
	want := map[string]string{}
	for _, prob := range probs {
		want[inventory.ObjectRef(alert.SubjectEndpoint, w.eps[prob].ID)+" "+wantRule[prob]] = string(inventory.AlertFiring)
	}
	if !maps.Equal(got, want) {
		w.t.Fatalf("open alerts = %v, want %v", got, want)
	}
}

// alertKeys maps each problem's alert to the problem, over every alert
// ever raised; it fails when a problem has more than one.
func (w *watch) alertKeys() map[string]string {
	all, _, err := w.p.Alerts.List(w.ctx, "", inventory.Page{})
	w.must(err)
	keys := map[string]string{}
	for _, a := range all {
		for prob, e := range w.eps {
			if a.Subject == inventory.ObjectRef(alert.SubjectEndpoint, e.ID) && a.Rule == wantRule[prob] {
				keys[inventory.ObjectRef(inventory.KindAlert, a.ID)] = prob
			}
		}
	}
	if len(keys) != len(all) {
		w.t.Fatalf("alerts = %+v, want only the problems' rules on their endpoints", all)
	}
	return keys
}

// assertMessages checks that each channel and the admin's mailbox got
// exactly one message of kind for each problem given, and none of kind
// for any other alert.
func (w *watch) assertMessages(kind string, probs ...string) {
	w.t.Helper()
	keys := w.alertKeys()
	want := slices.Sorted(slices.Values(probs))
	for name, msgs := range w.delivered() {
		var got []string
		for _, m := range msgs {
			if m.Kind == kind {
				got = append(got, keys[m.Alert]+" "+m.Alert)
			}
		}
		slices.Sort(got)
		var wantKeys []string
		for _, prob := range want {
			for k, p := range keys {
				if p == prob {
					wantKeys = append(wantKeys, prob+" "+k)
				}
			}
		}
		if !slices.Equal(got, wantKeys) {
			w.t.Errorf("%s: %s messages = %v, want exactly %v", name, kind, got, wantKeys)
		}
	}
}

// delivered is what each place received, failing on anything a
// receiver refused (a bad signature, a malformed body).
func (w *watch) delivered() map[string][]message {
	w.t.Helper()
	hook, hookErrs := w.hook.messages()
	chat, chatErrs := w.chat.messages()
	mail, stray := mailMessages(w.smtp, watchAdmin)
	if errs := append(hookErrs, chatErrs...); len(errs) > 0 || len(stray) > 0 {
		w.t.Fatalf("receivers refused messages: %q; e-mails not to the admin alone: %q", errs, stray)
	}
	return map[string][]message{"webhook": hook, "slack": chat, "e-mail": mail}
}

// assertQuiet proves that nothing more is sent while nothing changes: it
// counts what arrived, waits for three more alert evaluations and a
// further monitoring round, and counts again.
func (w *watch) assertQuiet() {
	w.t.Helper()
	before := countMessages(w.delivered())
	w.waitAlertRuns(3)
	w.round()
	if after := countMessages(w.delivered()); !maps.Equal(before, after) {
		w.t.Errorf("messages while nothing changed: before %v, after %v; want no new ones", before, after)
	}
}

func countMessages(d map[string][]message) map[string]int {
	out := map[string]int{}
	for name, msgs := range d {
		out[name] = len(msgs)
	}
	return out
}

// assertMetrics scrapes the metrics listener and checks each problem
// endpoint's check_success and the firing alerts of each problem's rule.
func (w *watch) assertMetrics(success map[string]int, firing int) {
	w.t.Helper()
	code, body := get(w.t, &http.Client{Timeout: 30 * time.Second}, w.metrics, "")
	if code != http.StatusOK {
		w.t.Fatalf("GET %s = %d, want 200", w.metrics, code)
	}
	for prob, want := range success {
		series := fmt.Sprintf(`certkeeper_endpoint_check_success{endpoint="%s/%s"} %d`, w.eps[prob].Address, nameOf(prob), want)
		if !hasLine(body, series) {
			w.t.Errorf("metrics lack %q:\n%s", series, body)
		}
	}
	for _, rule := range wantRule {
		series := fmt.Sprintf(`certkeeper_alerts_firing{rule="%s"} %d`, rule, firing)
		if !hasLine(body, series) {
			w.t.Errorf("metrics lack %q:\n%s", series, body)
		}
	}
}

func hasLine(body, line string) bool {
	return slices.Contains(strings.Split(body, "\n"), line)
}

// diag logs the jobs and the endpoints' latest results, for a failure.
func (w *watch) diag() {
	sts, _ := w.p.Scheduler.Status(w.ctx)
	for _, st := range sts {
		w.t.Logf("job %+v", st)
	}
	all, _ := w.p.Store.AllEndpoints(w.ctx)
	for _, e := range all {
		w.t.Logf("endpoint %+v last %+v", e, e.Last)
	}
}
