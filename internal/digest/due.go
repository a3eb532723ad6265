package digest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// daySetting keeps the UTC day ("2006-01-02") of the last scheduled
// digest, so that a day has at most one whatever the time of day says.
const daySetting = "digest.day"

// objectKind names the digest in the audit trail ("digest:2026-12-08").
// The digest leaves its own events out of "what changed".
const objectKind = "digest"

// Due reports whether today's scheduled digest is due: the configured
// time of day (UTC) has passed and no scheduled digest was made today.
// The time is read from the options at every call, so a change takes
// effect at once.
func (s *Service) Due(ctx context.Context) (bool, error) {
	opts, err := s.src.Options(ctx)
	if err != nil {
		return false, fmt.Errorf("digest: %w", err)
	}
	return s.due(ctx, opts, s.now().UTC())
}

func (s *Service) due(ctx context.Context, opts Options, now time.Time) (bool, error) {
	at := time.Date(now.Year(), now.Month(), now.Day(), opts.Hour, opts.Minute, 0, 0, time.UTC)
	if now.Before(at) {
		return false, nil
	}
	b, err := s.st.GetSetting(ctx, daySetting)
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("digest: %w", err)
	}
	return string(b) != day(now), nil
}

// RunDue sends today's digest when it is due (see Due) and records the
// day, quiet or not: the scheduler's "digest" job calls it. It returns
// nil, nil when the digest is not due, and Result.Err when a delivery
// failed (the day is recorded all the same: a retry does not send it
// twice).
func (s *Service) RunDue(ctx context.Context) (*Result, error) {
	due, err := s.Due(ctx)
	if err != nil || !due {
		return nil, err
	}
	res, err := s.send(ctx)
	if err != nil {
		return nil, err
	}
	err = s.st.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutSetting(ctx, stateSetting, stateValue(res.Digest.At)); err != nil {
			return err
		}
		return tx.PutSetting(ctx, daySetting, []byte(day(res.Digest.At)))
	})
	if err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	return res, res.Err
}

// SendNow sends the digest at once on actor's request, as the scheduled
// one would be (not when there is nothing to say, unless the options say
// always), and audits the request with its outcome. A failed delivery is
// a Result with Sent false and Err set, not an error. It does not count as
// the day's scheduled digest, but the next one starts from it.
func (s *Service) SendNow(ctx context.Context, actor string) (*Result, error) {
	res, err := s.send(ctx)
	if err != nil {
		return nil, err
	}
	summary := "sent: " + res.Digest.Subject()
	if !res.Sent {
		summary = "not sent: " + res.Reason
	}
	err = s.st.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutSetting(ctx, stateSetting, stateValue(res.Digest.At)); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &inventory.AuditEvent{Time: s.now().UTC(), Actor: actor, Action: "digest.send",
			Object: inventory.ObjectName(objectKind, day(res.Digest.At)), Summary: summary})
	})
	if err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	return res, nil
}

// Preview makes the digest as it would be sent now, with the options'
// links, and sends and changes nothing.
func (s *Service) Preview(ctx context.Context) (*Digest, error) {
	opts, err := s.src.Options(ctx)
	if err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	return s.Make(ctx, opts.BaseURL)
}
