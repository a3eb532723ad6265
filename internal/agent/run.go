package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy"
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
	Host deploy.Host
	// Check checks a server after an install; nil means deploy.Check
	// with source "agent".
	Check deploy.CheckFunc
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
		c.Host = deploy.NewLocal()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Check == nil {
		now := c.Now
		c.Check = func(ctx context.Context, spec inventory.CheckSpec, want deploy.Want) *inventory.CheckResult {
			return deploy.Check(ctx, spec, want, deploy.CheckOptions{Source: "agent", Now: now})
		}
	}
	var backoff time.Duration
	for {
		failed, err := round(ctx, c, log)
		err = withEnrollHint(err, c.Dir)
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
	st, hc, cert, err := loadClient(c.Dir)
	if err != nil {
		return 0, err
	}
	defer hc.CloseIdleConnections()
	base, err := url.Parse(st.Server)
	if err != nil {
		return 0, fmt.Errorf("agent: %s: server %q: %w", StateFile, st.Server, err)
	}
	renewed, err := renewIfDue(ctx, c, hc, base, cert, log)
	if err != nil {
		return 0, err
	}
	if renewed {
		hc.CloseIdleConnections()
		if _, hc, _, err = loadClient(c.Dir); err != nil {
			return 0, err
		}
		defer hc.CloseIdleConnections()
	}
	var list JobList
	if err := call(ctx, hc, "GET", base.JoinPath("agent/v1/jobs").String(), nil, &list); err != nil {
		return 0, fmt.Errorf("agent: fetch jobs: %w", err)
	}
	failed := 0
	for _, j := range list.Jobs {
		o := deploy.Run(ctx, c.Host, j.Job, c.Check, c.Now())
		logJob(log, j, o)
		if o.Error != "" {
			failed++
		}
		var ans ResultAnswer
		u := base.JoinPath("agent/v1/jobs", strconv.FormatInt(j.DeploymentID, 10), "result").String()
		if err := call(ctx, hc, "POST", u, o, &ans); err != nil {
			return failed, fmt.Errorf("agent: report deployment %d: %w", j.DeploymentID, err)
		}
	}
	return failed, nil
}

// withEnrollHint adds to an error refusing the agent's certificate for
// good (revoked, not current, unknown, expired) how to enroll again.
func withEnrollHint(err error, dir string) error {
	var he *HTTPError
	if !errors.As(err, &he) || he.Refusal == "" || he.Refusal == RefusedDisabled {
		return err
	}
	return fmt.Errorf("%w; this agent's certificate will not be accepted again: make a new token on the manager "+
		"(\"certkeeper agent token create --name NAME\") and run \"certkeeper agent enroll --server URL --token TOKEN --ca-pin PIN --dir %s\" here", err, dir)
}

// logJob logs what a job did: target, result, never file contents.
func logJob(log *slog.Logger, j deploy.AgentJob, o *deploy.Outcome) {
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

// loadClient reads the agent's files and returns its state, a client
// presenting its certificate and trusting only its CA file, and that
// certificate.
func loadClient(dir string) (*State, *http.Client, *tls.Certificate, error) {
	raw, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("agent: not enrolled in %s (run \"certkeeper agent enroll\"): %w", dir, err)
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, nil, nil, fmt.Errorf("agent: %s: %w", StateFile, err)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("agent: certificate: %w", err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("agent: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, nil, nil, fmt.Errorf("agent: %s holds no PEM certificate", CAFile)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, Certificates: []tls.Certificate{cert}}
	return &st, &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{TLSClientConfig: tc}}, &cert, nil
}
