package monitor_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/monitor"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
	"github.com/certkeeper/certkeeper/internal/truststore"
)

// fixture is a monitor service over a real SQLite store that trusts the
// root of an openssl-played CA.
type fixture struct {
	st    inventory.Store
	svc   *monitor.Service
	clock *testenv.Clock
	ca    *testenv.OpenSSLCA
	ids   map[string]int64 // certificate IDs by file base
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, clock: testenv.NewClock(time.Now().UTC().Truncate(time.Second)),
		ca: testenv.NewOpenSSLCA(t, "Mon"), ids: map[string]int64{}}
	f.put(t, "root", f.ca.Root)
	f.put(t, "intermediate", testenv.ParseCertPEM(t, f.ca.Read("intermediate.pem")))
	trust := truststore.New(st, truststore.Options{Now: f.clock.Now})
	if _, err := trust.Add(ctx, "test", f.ids["root"]); err != nil {
		t.Fatal(err)
	}
	f.svc = monitor.New(st, monitor.Config{Now: f.clock.Now, Trust: trust, CheckTimeout: 10 * time.Second,
		Jitter: func(max time.Duration) time.Duration { return max }})
	return f
}

func (f *fixture) put(t *testing.T, base string, c *x509.Certificate) int64 {
	t.Helper()
	res, err := f.st.PutCertificates(context.Background(), []*inventory.Certificate{inventory.NewCertificate(c, "test")})
	if err != nil {
		t.Fatal(err)
	}
	f.ids[base] = res[0].ID
	return res[0].ID
}

// leaf has the CA sign a leaf BASE.pem for name, valid days days, and
// stores it.
func (f *fixture) leaf(t *testing.T, base, name string, days int) *x509.Certificate {
	t.Helper()
	f.ca.ForeignCSR(base, name)
	c := f.ca.Sign(base, f.ca.Read(base+".csr"), "serverAuth", "DNS:"+name)
	if days != 10 {
		f.ca.Run("x509", "-req", "-in", base+".csr", "-CA", "intermediate.pem", "-CAkey", "intermediate.key",
			"-days", strconv.Itoa(days), "-sha256", "-extfile", base+".ext", "-out", base+".pem")
		c = testenv.ParseCertPEM(t, f.ca.Read(base+".pem"))
	}
	f.put(t, base, c)
	return c
}

// sServer runs `openssl s_server` serving BASE.pem (with the
// intermediate when chain is set) until stop or the test's end, and
// returns its address.
func (f *fixture) sServer(t *testing.T, base string, chain bool) (addr string, stop func()) {
	t.Helper()
	addr = testenv.FreeAddr(t)
	args := []string{"s_server", "-www", "-accept", addr, "-cert", base + ".pem", "-key", base + ".key"}
	if chain {
		args = append(args, "-cert_chain", "intermediate.pem")
	}
	logFile := filepath.Join(t.TempDir(), "s_server.log")
	log, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.Command(t, "openssl"), args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = f.ca.Dir, log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); log.Close(); close(exited) }()
	stop = func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	t.Cleanup(stop)
	testenv.WaitFor(t, 10*time.Second, "openssl s_server to accept", func() bool {
		data, _ := os.ReadFile(logFile)
		return strings.Contains(string(data), "ACCEPT")
	})
	return addr, stop
}

func (f *fixture) add(t *testing.T, r monitor.AddRequest) *inventory.Endpoint {
	t.Helper()
	e, err := f.svc.Add(context.Background(), "user:ada", r)
	if err != nil {
		t.Fatalf("Add(%+v): %v", r, err)
	}
	return e
}

func (f *fixture) runNow(t *testing.T, ids ...int64) map[int64]inventory.Endpoint {
	t.Helper()
	var calls int
	got, err := f.svc.RunNow(context.Background(), ids, func(done, total int) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if calls != len(got) {
		t.Errorf("progress called %d times for %d endpoints", calls, len(got))
	}
	out := map[int64]inventory.Endpoint{}
	for _, e := range got {
		out[e.ID] = e
	}
	return out
}

func hasProblem(r *inventory.EndpointResult, part string) bool {
	for _, p := range r.Check.Problems {
		if strings.Contains(p, part) {
			return true
		}
	}
	return false
}

// TestRunJudgesEndpoints: an expiring certificate served with its
// chain passes with its days left; another certificate than the
// expected one, and a chain without its intermediate, fail; a
// standalone endpoint expects no particular certificate.
func TestRunJudgesEndpoints(t *testing.T) {
	f := newFixture(t)
	a := f.leaf(t, "a", "a.test", 3)
	b := f.leaf(t, "b", "b.test", 10)
	full, _ := f.sServer(t, "a", true)
	swapped, _ := f.sServer(t, "b", true)
	bare, _ := f.sServer(t, "a", false)

	expiring := f.add(t, monitor.AddRequest{Address: full, ServerName: "a.test", CertificateID: f.ids["a"]})
	wrong := f.add(t, monitor.AddRequest{Address: swapped, ServerName: "a.test", CertificateID: f.ids["a"]})
	noChain := f.add(t, monitor.AddRequest{Address: bare, ServerName: "a.test", CertificateID: f.ids["a"]})
	manual := f.add(t, monitor.AddRequest{Address: swapped, ServerName: "b.test", Labels: []string{"web"}})
	f.clock.Advance(time.Minute) // past the certificates' issue
	got := f.runNow(t)

	r := got[expiring.ID].Last
	if r.Status() != "ok" || r.ChainDaysLeft != 2 || r.Check.DaysLeft != 2 || r.LeafLifetime != 3*24*time.Hour {
		t.Errorf("expiring: status %s, chain days %d, days %d, lifetime %v, problems %q; want ok, 2, 2, 72h",
			r.Status(), r.ChainDaysLeft, r.Check.DaysLeft, r.LeafLifetime, r.Check.Problems)
	}
	wantChain := []string{inventory.SHA256Hex(a.Raw), f.sha("intermediate.pem", t)}
	if strings.Join(r.ChainSHA256, ",") != strings.Join(wantChain, ",") || !r.LeafNotAfter.Equal(a.NotAfter) {
		t.Errorf("expiring: chain %q, leaf end %v; want %q, %v", r.ChainSHA256, r.LeafNotAfter, wantChain, a.NotAfter)
	}
	if r := got[wrong.ID].Last; r.Status() != "failed" || r.Check.Match || !hasProblem(r, "another certificate") {
		t.Errorf("swapped: status %s, match %t, problems %q; want failed on another certificate", r.Status(), r.Check.Match, r.Check.Problems)
	}
	if r := got[noChain.ID].Last; r.Status() != "failed" || r.Check.IntermediatesServed || len(r.ChainSHA256) != 1 {
		t.Errorf("no chain: status %s, intermediates %t, chain %q; want failed without intermediates", r.Status(),
			r.Check.IntermediatesServed, r.ChainSHA256)
	}
	if r := got[manual.ID].Last; r.Status() != "ok" || r.ChainSHA256[0] != inventory.SHA256Hex(b.Raw) || r.ChainDaysLeft != 9 {
		t.Errorf("manual: status %s, chain %q, chain days %d, problems %q; want ok with b's certificate and 9 days",
			r.Status(), r.ChainSHA256, r.ChainDaysLeft, r.Check.Problems)
	}
	stored, err := f.st.GetEndpoint(context.Background(), wrong.ID)
	if err != nil || stored.Last == nil || stored.Last.ID != got[wrong.ID].Last.ID || stored.Failures != 0 {
		t.Errorf("stored swapped endpoint: %+v, %v; want the result recorded, no failures (it was observed)", stored, err)
	}
}

func (f *fixture) sha(file string, t *testing.T) string {
	return inventory.SHA256Hex(testenv.ParseCertPEM(t, f.ca.Read(file)).Raw)
}

// TestPassSilentEndpoint: an endpoint that goes silent counts failures
// run after run; its history lists every result, newest first; the
// next check follows the interval (plus jitter).
func TestPassSilentEndpoint(t *testing.T) {
	f := newFixture(t)
	f.leaf(t, "a", "a.test", 10)
	addr, stop := f.sServer(t, "a", true)
	e := f.add(t, monitor.AddRequest{Address: addr, ServerName: "a.test", CertificateID: f.ids["a"], Interval: time.Hour})
	ctx := context.Background()
	var passes int
	svc := monitor.New(f.st, monitor.Config{Now: f.clock.Now, CheckTimeout: 5 * time.Second,
		Jitter: func(max time.Duration) time.Duration { return max }, AfterPass: func(context.Context) { passes++ }})
	if err := svc.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := svc.Get(ctx, e.ID)
	first := got.Last
	if got.Last == nil || got.Last.Check.Error != "" || !got.NextCheckAt.Equal(f.clock.Now().Add(66*time.Minute)) {
		t.Fatalf("first pass: last %+v, next %v; want observed, next in 1h06m", got.Last, got.NextCheckAt)
	}
	stop()
	if err := svc.Pass(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.Get(ctx, e.ID); got.Failures != 0 || got.Last.ID != first.ID {
		t.Errorf("a pass before the endpoint is due checked it: failures %d, last result %d, want %d", got.Failures,
			got.Last.ID, first.ID)
	}
	for i := 1; i <= 2; i++ {
		f.clock.Advance(2 * time.Hour)
		if err := svc.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ = svc.Get(ctx, e.ID)
		if got.Failures != i || got.Last.Check.Error == "" || got.Last.Status() != "failed" {
			t.Errorf("silent pass %d: failures %d, error %q; want %d and an error", i, got.Failures, got.Last.Check.Error, i)
		}
	}
	h, _, err := svc.History(ctx, e.ID, inventory.Page{})
	if err != nil || len(h) != 3 || h[0].Check.Error == "" || h[2].Check.Error != "" {
		t.Errorf("history: %d results, error %v; want 3, newest (failed) first", len(h), err)
	}
	if passes != 3 {
		t.Errorf("AfterPass called %d times, want 3 (not after the pass that checked nothing)", passes)
	}
}

// TestStartTLSEndpoint: an SMTP server's certificate is read after
// STARTTLS (a real Postfix).
func TestStartTLSEndpoint(t *testing.T) {
	f := newFixture(t)
	pf := testenv.StartPostfix(t)
	e := f.add(t, monitor.AddRequest{Address: pf.Addr, StartTLS: "smtp"})
	r := f.runNow(t, e.ID)[e.ID].Last
	if r.Check.Error != "" || len(r.ChainSHA256) == 0 || r.ChainSHA256[0] != inventory.SHA256Hex(pf.Cert.Raw) {
		t.Errorf("STARTTLS: error %q, chain %q; want postfix's certificate %s", r.Check.Error, r.ChainSHA256,
			inventory.SHA256Hex(pf.Cert.Raw))
	}
	if !r.LeafNotAfter.Equal(pf.Cert.NotAfter) {
		t.Errorf("LeafNotAfter %v, want %v", r.LeafNotAfter, pf.Cert.NotAfter)
	}
}

// TestDailyNext: endpoints checked daily are due at the next monitoring
// time plus up to 30 minutes.
func TestDailyNext(t *testing.T) {
	f := newFixture(t)
	f.leaf(t, "a", "a.test", 10)
	addr, _ := f.sServer(t, "a", true)
	e := f.add(t, monitor.AddRequest{Address: addr, CertificateID: f.ids["a"]})
	got := f.runNow(t, e.ID)[e.ID]
	now := f.clock.Now()
	daily := time.Date(now.Year(), now.Month(), now.Day(), 6, 0, 0, 0, time.UTC)
	if !daily.After(now) {
		daily = daily.AddDate(0, 0, 1)
	}
	if want := daily.Add(30 * time.Minute); !got.NextCheckAt.Equal(want) {
		t.Errorf("NextCheckAt %v, want %v", got.NextCheckAt, want)
	}
}

// TestAddRefusesBadInput: bad input gets a field error and stores
// nothing.
func TestAddRefusesBadInput(t *testing.T) {
	f := newFixture(t)
	f.leaf(t, "a", "a.test", 10) // no key in the inventory
	bad := map[string]monitor.AddRequest{
		"address":               {Address: "www.example.com"},
		" address":              {Address: "www.example.com:70000"},
		"servername":            {Address: "a:443", ServerName: "not a name"},
		"starttls":              {Address: "a:443", StartTLS: "gopher"},
		"interval":              {Address: "a:443", Interval: 30 * time.Second},
		"client_certificate_id": {Address: "a:443", ClientCertificateID: f.ids["a"]},
		"certificate_id":        {Address: "a:443", CertificateID: 999},
		"definition_id":         {Address: "a:443", DefinitionID: 999},
		"label":                 {Address: "a:443", Labels: []string{"two words"}},
	}
	for field, r := range bad {
		var fe *inventory.FieldError
		if _, err := f.svc.Add(context.Background(), "user:ada", r); !errors.As(err, &fe) || fe.Field != strings.TrimSpace(field) {
			t.Errorf("Add(%+v) = %v, want a field error on %s", r, err, field)
		}
	}
	if all, _ := f.st.AllEndpoints(context.Background()); len(all) != 0 {
		t.Errorf("%d endpoints stored after refused adds", len(all))
	}
	e := f.add(t, monitor.AddRequest{Address: "a.test:443"})
	events, _, err := f.st.ListAuditNewest(context.Background(), time.Time{}, inventory.Page{Limit: 1})
	if err != nil || len(events) != 1 || events[0].Action != "endpoint.add" || events[0].Actor != "user:ada" ||
		events[0].Object != inventory.ObjectRef(inventory.KindEndpoint, e.ID) {
		t.Errorf("audit after Add = %+v, %v; want endpoint.add by user:ada", events, err)
	}
	if err := f.svc.Remove(context.Background(), "user:ada", e.ID); err != nil {
		t.Fatal(err)
	}
	if events, _, _ = f.st.ListAuditNewest(context.Background(), time.Time{}, inventory.Page{Limit: 1}); len(events) != 1 ||
		events[0].Action != "endpoint.remove" {
		t.Errorf("audit after Remove = %+v; want endpoint.remove", events)
	}
	f.add(t, monitor.AddRequest{Address: "a.test:443"})
	if _, err := f.svc.Add(context.Background(), "user:ada", monitor.AddRequest{Address: "A.test:443"}); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("duplicate Add = %v, want ErrConflict", err)
	}
}

// TestRunCancelled: a check cut short because the run's context ended
// (a server that accepts and never answers) records nothing, so the
// endpoint stays due instead of counting a failure.
func TestRunCancelled(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	e := f.add(t, monitor.AddRequest{Address: ln.Addr().String()})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := f.svc.RunNow(ctx, []int64{e.ID}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("RunNow cut short = %v, want context.DeadlineExceeded", err)
	}
	got, err := f.svc.Get(context.Background(), e.ID)
	if err != nil || got.Last != nil || got.Failures != 0 {
		t.Errorf("endpoint after a cut-short run = %+v, %v; want no result", got, err)
	}
}

// TestRunRemovedWhileChecked: an endpoint removed while its check is
// under way (a server that accepts, then hangs up once the endpoint is
// gone) gets no result and fails nothing; the endpoint checked beside it
// is recorded.
func TestRunRemovedWhileChecked(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	gone := f.add(t, monitor.AddRequest{Address: ln.Addr().String()})
	f.leaf(t, "kept", "kept.example.test", 10)
	addr, _ := f.sServer(t, "kept", true)
	kept := f.add(t, monitor.AddRequest{Address: addr, ServerName: "kept.example.test"})
	type outcome struct {
		got []inventory.Endpoint
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		got, err := f.svc.RunNow(context.Background(), []int64{gone.ID, kept.ID}, nil)
		done <- outcome{got, err}
	}()
	select {
	case c := <-accepted:
		if err := f.svc.Remove(context.Background(), "user:ada", gone.ID); err != nil {
			t.Fatal(err)
		}
		c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("the check never connected")
	}
	res := <-done
	if res.err != nil || len(res.got) != 2 {
		t.Fatalf("RunNow = %d endpoints, %v; want 2, no error", len(res.got), res.err)
	}
	if res.got[0].Last != nil || res.got[1].Last == nil || res.got[1].Last.ID == 0 {
		t.Errorf("results: removed endpoint %+v, kept endpoint %+v; want none for the removed one, a recorded one for the other",
			res.got[0].Last, res.got[1].Last)
	}
	if h, _, err := f.st.EndpointHistory(context.Background(), kept.ID, inventory.Page{}); err != nil || len(h) != 1 {
		t.Errorf("history of the kept endpoint: %d results, %v; want 1", len(h), err)
	}
}
