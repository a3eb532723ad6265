// Package digest writes the daily digest to the certificate
// administrator: what needs action (open alerts, failing endpoints,
// processes that do not move) and what changed since the last digest (the
// audit trail), with links into the web UI. It is sent as an
// inventory.Notice, only when there is something to say unless the
// instance asks for one every day.
package digest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/dashboard"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// stateSetting keeps when the last digest was made, so that the next one
// covers what changed since.
const stateSetting = "digest.last"

// firstWindow is what the first digest covers.
const firstWindow = 24 * time.Hour

// Alert is an open alert as the digest lists it.
type Alert struct {
	ID       int64
	Rule     string
	Severity string
	Subject  string
	Summary  string
	Since    time.Time
	// Acknowledged alerts are listed apart: someone is on them.
	Acknowledged bool
}

// Options are the instance's digest settings, read at every run.
type Options struct {
	// Emails and Channels receive the digest; none means it is not sent.
	Emails   []string
	Channels []string
	// BaseURL is the web UI's external URL, for links; "" gives none.
	BaseURL string
	// Always sends a digest even when nothing needs action and nothing
	// changed.
	Always bool
	// Hour and Minute (UTC) are when the day's scheduled digest is due;
	// zero means midnight.
	Hour, Minute int
}

// Sources are what a digest is made of. Each is read once per digest.
type Sources struct {
	Options   func(ctx context.Context) (Options, error)
	Alerts    func(ctx context.Context) ([]Alert, error)
	Endpoints func(ctx context.Context) ([]inventory.Endpoint, error)
	Stuck     func(ctx context.Context) ([]dashboard.Stuck, error)
}

// Store keeps the digest's state and reads the audit trail.
type Store interface {
	GetSetting(ctx context.Context, name string) ([]byte, error)
	PutSetting(ctx context.Context, name string, value []byte) error
	ListAudit(ctx context.Context, since time.Time, p inventory.Page) ([]inventory.AuditEvent, string, error)
	// InTx writes a digest's state and its audit event in one
	// transaction.
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// Notifier sends a notice.
type Notifier interface {
	Notify(ctx context.Context, n inventory.Notice) error
}

// Service makes and sends digests.
type Service struct {
	st     Store
	src    Sources
	notify Notifier
	now    func() time.Time
}

// New returns a digest service; now nil means time.Now.
func New(st Store, src Sources, n Notifier, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, src: src, notify: n, now: now}
}

// Result says what Send did.
type Result struct {
	Digest *Digest
	// Sent is false when there was nothing to say, or nobody to say it
	// to; Reason says which.
	Sent   bool
	Reason string
	// Recipients counts the e-mail addresses and channels it was for.
	Recipients int
	// Err is why a delivery failed (Sent is then false). What got
	// through, and what did not, is recorded by the notifier; the digest
	// counts as made all the same, so that it is not sent twice.
	Err error
}

// Send makes the digest of everything since the last one and sends it
// to the configured recipients, unless there is nothing to say (and
// Options.Always is off) or nobody to send it to. Either way the next
// digest starts from now: a quiet day is not repeated the day after.
func (s *Service) Send(ctx context.Context) (*Result, error) {
	res, err := s.send(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.st.PutSetting(ctx, stateSetting, stateValue(res.Digest.At)); err != nil {
		return nil, err
	}
	return res, res.Err
}

// send makes and sends the digest without recording it.
func (s *Service) send(ctx context.Context) (*Result, error) {
	opts, err := s.src.Options(ctx)
	if err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	d, err := s.Make(ctx, opts.BaseURL)
	if err != nil {
		return nil, err
	}
	res := &Result{Digest: d, Recipients: len(opts.Emails) + len(opts.Channels)}
	switch {
	case len(opts.Emails) == 0 && len(opts.Channels) == 0:
		res.Reason = "no recipient: set the admin e-mail"
	case d.Empty() && !opts.Always:
		res.Reason = "nothing needs action and nothing changed"
	default:
		if err := s.notify.Notify(ctx, d.Notice(opts)); err != nil {
			res.Reason, res.Err = "delivery failed: see Sent e-mails and Sent notifications", fmt.Errorf("digest: %w", err)
			break
		}
		res.Sent = true
	}
	return res, nil
}

func stateValue(at time.Time) []byte { return []byte(at.UTC().Format(time.RFC3339Nano)) }

// Make gathers the digest of what happened since the last one, without
// sending it or moving its start.
func (s *Service) Make(ctx context.Context, baseURL string) (*Digest, error) {
	at := s.now()
	since, err := s.since(ctx, at)
	if err != nil {
		return nil, err
	}
	d := &Digest{At: at, Since: since, base: baseURL}
	if err := s.gather(ctx, d); err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	return d, nil
}

// since is when the last digest was made, or a day before at.
func (s *Service) since(ctx context.Context, at time.Time) (time.Time, error) {
	b, err := s.st.GetSetting(ctx, stateSetting)
	if errors.Is(err, inventory.ErrNotFound) {
		return at.Add(-firstWindow), nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("digest: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil || t.After(at) {
		return at.Add(-firstWindow), nil
	}
	return t, nil
}
