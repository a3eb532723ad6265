package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/check"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/localhost"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Polling.
const (
	// DefaultInterval is how often Run asks for jobs.
	DefaultInterval = 30 * time.Second
	// minBackoff and maxBackoff bound the wait after a failed round.
	minBackoff = 5 * time.Second
	maxBackoff = 5 * time.Minute
)

// RunConfig configures Run. Only Dir is required.
type RunConfig struct {
	// Dir holds the files Enroll wrote.
	Dir string
	// Interval is the time between two requests for jobs; 0 means
	// DefaultInterval.
	Interval time.Duration
	// Once makes Run do one round and return: an error when the endpoint
	// could not be reached or a job failed.
	Once bool
	// Host is where jobs install; nil means the local machine.
	Host engine.Host
	// Check checks a server after an install; nil means check.Run
	// with source "agent".
	Check engine.CheckFunc
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Run asks the endpoint for jobs every Interval, over mutual TLS with the
// agent's certificate, trusting only the CA of Dir, installs each job on
// the host, checks and reports the outcome. When a third of the agent's
// certificate's life is left, a round first renews it (same key). A failed round is logged and
// retried after a growing pause; Run returns when ctx ends (nil) or,
// with Once, after one round.
func Run(ctx context.Context, c RunConfig, log *slog.Logger) error {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Host == nil {
		c.Host = localhost.New()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Check == nil {
		now := c.Now
		c.Check = func(ctx context.Context, spec inventory.CheckSpec, want engine.Want) *inventory.CheckResult {
			return check.Run(ctx, spec, want, check.Options{Source: "agent", Now: now})
		}
	}
	var backoff time.Duration
	for {
		failed, err := round(ctx, c, log)
		err = explain(err, c.Dir)
		if c.Once {
			if err == nil && failed > 0 {
				err = fmt.Errorf("agent: %d job(s) failed; the manager has the details", failed)
			}
			return err
		}
		wait := c.Interval
		if err != nil && ctx.Err() == nil {
			backoff = min(max(2*backoff, minBackoff), max(maxBackoff, c.Interval))
			wait = backoff
			log.Warn("agent round failed; will retry", "err", err, "retry_in", wait)
		} else {
			backoff = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// round fetches the jobs and runs them, reporting each; it returns how
// many failed.
func round(ctx context.Context, c RunConfig, log *slog.Logger) (int, error) {
	ac, err := loadClient(c.Dir)
	if err != nil {
		return 0, err
	}
	defer ac.hc.CloseIdleConnections()
	base, err := url.Parse(ac.st.Server)
	if err != nil {
		return 0, fmt.Errorf("agent: %s: server %q: %w", StateFile, ac.st.Server, err)
	}
	renewed, err := renewIfDue(ctx, c, ac.hc, base, ac.cert, log)
	if err != nil {
		return 0, err
	}
	if renewed {
		ac.hc.CloseIdleConnections()
		if ac, err = loadClient(c.Dir); err != nil {
			return 0, err
		}
		defer ac.hc.CloseIdleConnections()
	}
	var list JobList
	if err := call(ctx, ac.hc, "GET", base.JoinPath("agent/v1/jobs").String(), nil, &list); err != nil {
		return 0, fmt.Errorf("agent: fetch jobs: %w", err)
	}
	if err := ac.pinFirstKey(c.Dir, log); err != nil {
		return 0, err
	}
	failed := 0
	for _, j := range list.Jobs {
		o := ac.st.refuseJob(j.Job, c.Dir)
		if o == nil {
			o = engine.Run(ctx, c.Host, j.Job, c.Check, c.Now())
		}
		logJob(log, j, o)
		if o.Error != "" {
			failed++
		}
		var ans ResultAnswer
		u := base.JoinPath("agent/v1/jobs", strconv.FormatInt(j.DeploymentID, 10), "result").String()
		if err := call(ctx, ac.hc, "POST", u, o, &ans); err != nil {
			return failed, fmt.Errorf("agent: report deployment %d: %w", j.DeploymentID, err)
		}
	}
	return failed, nil
}

// explain makes a round's error say what to do: a changed manager key
// is the whole message; a certificate refused for good (revoked, not
// current, unknown, expired) says how to enroll again.
func explain(err error, dir string) error {
	var mk *ManagerKeyError
	if errors.As(err, &mk) {
		return mk
	}
	var he *HTTPError
	if !errors.As(err, &he) || he.Refusal == "" || he.Refusal == RefusedDisabled {
		return err
	}
	return fmt.Errorf("%w; this agent's certificate will not be accepted again: make a new token on the manager "+
		"(\"certkeeper agent token create --name NAME\") and run \"certkeeper agent enroll --server URL --token TOKEN --ca-pin PIN --dir %s\" here", err, dir)
}

// logJob logs what a job did: target, result, never file contents.
func logJob(log *slog.Logger, j engine.AgentJob, o *engine.Outcome) {
	attrs := []any{"deployment", j.DeploymentID, "target", j.Target, "directory", j.Job.Plan.Directory,
		"installed", o.Installed, "rolled_back", o.RolledBack}
	if o.Check != nil {
		attrs = append(attrs, "check_passed", o.Check.Passed)
	}
	if o.Error != "" {
		log.Error("job failed", append(attrs, "err", o.Error)...)
		return
	}
	log.Info("job done", attrs...)
}

// agentClient is what one round talks to the endpoint with.
type agentClient struct {
	st *State
	// hc presents cert, trusts only the CA file and checks the manager
	// key pin.
	hc   *http.Client
	cert *tls.Certificate
	pin  *keyPinner
}

// loadClient reads the agent's files and returns its state, a client
// presenting its certificate, trusting only its CA file and checking the
// manager key pin, and that certificate.
func loadClient(dir string) (*agentClient, error) {
	st, err := readState(dir)
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, fmt.Errorf("agent: certificate: %w", err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("agent: %s holds no PEM certificate", CAFile)
	}
	pin := &keyPinner{pinned: st.ManagerKeyPin, dir: dir}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, Certificates: []tls.Certificate{cert},
		VerifyConnection: pin.verify}
	hc := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{TLSClientConfig: tc}}
	return &agentClient{st: st, hc: hc, cert: &cert, pin: pin}, nil
}

// pinFirstKey pins the key the endpoint presented when the agent has no
// pin yet (enrolled before pins existed), and logs it.
func (ac *agentClient) pinFirstKey(dir string, log *slog.Logger) error {
	got := ac.pin.presented()
	if ac.st.ManagerKeyPin != "" || got == "" {
		return nil
	}
	if _, err := AcceptManagerKey(dir, got); err != nil {
		return err
	}
	ac.st.ManagerKeyPin = got
	log.Warn("no manager key pinned yet: pinned the key the agent endpoint presents", "key_pin", got)
	return nil
}
