package stack_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/scheduler"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/testenv"
	"github.com/certkeeper/certkeeper/internal/users"
)

// loopbackConfig is a process in dir listening on loopback ports the
// system picks.
func loopbackConfig(dir string, stdout io.Writer) stack.Config {
	return stack.Config{
		PasswordParams: &users.Params{Memory: 64, Time: 1, Threads: 1},
		Process: stack.ProcessConfig{DataDir: dir, Listen: "127.0.0.1:0", PKIListen: "127.0.0.1:0",
			AgentListen: "127.0.0.1:0", Stdout: stdout},
	}
}

// TestProcess starts a process, checks what it serves and wrote, and
// stops it.
func TestProcess(t *testing.T) {
	dir := t.TempDir()
	out := &testenv.Buffer{}
	cfg := loopbackConfig(dir, out)
	loopStarted := make(chan struct{})
	cfg.Process.Loops = []func(context.Context) error{func(ctx context.Context) error {
		close(loopStarted)
		<-ctx.Done()
		return ctx.Err()
	}}
	p, err := stack.NewProcess(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	t.Run("healthz over HTTPS", func(t *testing.T) { testHealthz(t, p, dir) })
	t.Run("CRL over plain HTTP", func(t *testing.T) { testCRL(t, p, dir) })
	t.Run("first admin", func(t *testing.T) { testFirstAdmin(t, dir, out.String()) })
	waitFor(t, loopStarted, "the configured loop to start")
	t.Run("CRL refresh job", func(t *testing.T) { testCRLJob(t, p) })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30 s of its context being cancelled")
	}
	if !strings.Contains(out.String(), "certkeeper is serving on https://"+p.Addr(stack.ListenerMain).String()) {
		t.Errorf("stdout = %q, want the HTTPS address announced", out.String())
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// caClient trusts only the CA chain the process wrote into DATA-DIR/certs.
func caClient(t *testing.T, dir string) *http.Client {
	t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join(dir, "certs", stack.CAFileName))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("%s holds no PEM certificate", stack.CAFileName)
	}
	return &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost"}}}
}

func testHealthz(t *testing.T, p *stack.Process, dir string) {
	resp, err := caClient(t, dir).Get("https://" + p.Addr(stack.ListenerMain).String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("GET /healthz = %d %q, want 200 with status ok", resp.StatusCode, body)
	}
}

func testCRL(t *testing.T, p *stack.Process, dir string) {
	c, err := p.Store.DefaultCA(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Get(fmt.Sprintf("http://%s/pki/crl/%d.crl", p.Addr(stack.ListenerPKI), c.ID))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	der, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET CRL = %d %q, want 200", resp.StatusCode, der)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("CRL does not parse: %v", err)
	}
	chain, err := p.Authority.Chain(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(chain[0]); err != nil {
		t.Errorf("CRL signature: %v, want one by the default CA", err)
	}
}

func testFirstAdmin(t *testing.T, dir, stdout string) {
	file := filepath.Join(dir, stack.InitialPasswordFile)
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	password := strings.TrimSpace(string(data))
	if password == "" || !strings.Contains(stdout, "First start: sign in as \"admin\" with the password "+password) {
		t.Errorf("stdout = %q, want the first admin's password %q announced", stdout, password)
	}
}

// TestPortInUse checks that an address in use fails the start before the
// data directory gets anything.
func TestPortInUse(t *testing.T) {
	for _, listener := range []string{stack.ListenerMain, stack.ListenerPKI, stack.ListenerAgent, stack.ListenerMetrics} {
		t.Run(listener, func(t *testing.T) {
			taken, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer taken.Close()
			dir := filepath.Join(t.TempDir(), "data")
			cfg := loopbackConfig(dir, io.Discard)
			switch listener {
			case stack.ListenerMain:
				cfg.Process.Listen = taken.Addr().String()
			case stack.ListenerPKI:
				cfg.Process.PKIListen = taken.Addr().String()
			case stack.ListenerMetrics:
				cfg.Process.MetricsListen = taken.Addr().String()
			default:
				cfg.Process.AgentListen = taken.Addr().String()
			}
			p, err := stack.NewProcess(context.Background(), cfg)
			var le *stack.ListenError
			if !errors.As(err, &le) || le.Listener != listener || le.Addr != taken.Addr().String() {
				p.Close()
				t.Fatalf("NewProcess = %v, want a ListenError for the %s listener at %s", err, listener, taken.Addr())
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("data directory after a failed start: stat = %v, want it not to exist", err)
			}
		})
	}
}

// TestHalfTLSPair checks that a certificate file without its key fails the
// start before anything is bound or created.
func TestHalfTLSPair(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := loopbackConfig(dir, io.Discard)
	cfg.Process.TLSCertFile = filepath.Join(t.TempDir(), "web.pem")
	if p, err := stack.NewProcess(context.Background(), cfg); err == nil {
		p.Close()
		t.Fatal("NewProcess with a certificate file and no key file succeeded, want an error")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data directory after a refused start: stat = %v, want it not to exist", err)
	}
}

// TestUnknownJobInterval: an interval for a job kind that does not exist
// fails the start before anything is created.
func TestUnknownJobInterval(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg := loopbackConfig(dir, io.Discard)
	cfg.Process.JobEvery = map[string]time.Duration{"nope": time.Second}
	if p, err := stack.NewProcess(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		if p != nil {
			p.Close()
		}
		t.Fatalf("NewProcess with an interval for an unknown job: %v, want an error naming it", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data directory after a refused start: stat = %v, want it not to exist", err)
	}
}

// testCRLJob: the scheduler runs the CRL refresh at start and shows its
// run and next slot; RunNow's request is served. The former loops are
// jobs too, the file-watching ones per instance; the monitor pass and the
// alert evaluation run when asked.
func testCRLJob(t *testing.T, p *stack.Process) {
	ctx := context.Background()
	job := func(kind string) scheduler.Status {
		sts, err := p.Scheduler.Status(ctx)
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		for _, st := range sts {
			if st.Kind == kind {
				return st
			}
		}
		t.Fatalf("Status = %v; no job %s", sts, kind)
		return scheduler.Status{}
	}
	servedKind := func(kind string) func() bool {
		return func() bool {
			st := job(kind)
			return st.LastResult == "ok" && !st.LastStarted.IsZero() &&
				st.NextRun.After(st.LastStarted) && !st.Requested && !st.Running
		}
	}
	served := servedKind(stack.JobCRLRefresh)
	inst := p.Scheduler.Owner()
	for _, kind := range []string{stack.JobSessionExpiry, stack.JobWebCertificate + "@" + inst,
		stack.JobAllowList + "@" + inst, stack.JobAgentCertificate + "@" + inst} {
		testenv.WaitFor(t, 30*time.Second, kind+"'s run", func() bool { return job(kind).LastResult == "ok" })
	}
	if next := job(stack.JobOutboundPolicy + "@" + inst).NextRun; next.IsZero() {
		t.Errorf("the outbound policy job has no next run")
	}
	testenv.WaitFor(t, 30*time.Second, "the CRL refresh job's run at start", served)
	if err := p.Scheduler.RunNow(ctx, stack.JobCRLRefresh); err != nil {
		t.Fatalf("RunNow: %v", err)
	}
	testenv.WaitFor(t, 30*time.Second, "the requested CRL refresh", served)
	if err := p.Scheduler.RunNow(ctx, stack.JobMonitor); err != nil {
		t.Fatalf("RunNow(monitor): %v", err)
	}
	testenv.WaitFor(t, 30*time.Second, "the requested monitor pass", servedKind(stack.JobMonitor))
	if err := p.Scheduler.RunNow(ctx, stack.JobAlerts); err != nil {
		t.Fatalf("RunNow(alerts): %v", err)
	}
	testenv.WaitFor(t, 30*time.Second, "the requested alert evaluation", servedKind(stack.JobAlerts))
}
