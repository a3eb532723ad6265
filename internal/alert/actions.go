package alert

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Limits of acknowledgements and silences.
const (
	maxReason = 500
	// MaxSilence is the longest silence.
	MaxSilence = 90 * day
)

// Acknowledge marks an open alert as being dealt with, by any signed-in
// user, with a reason; it stops repeating until it resolves (or its
// severity rises). Audited in the same transaction.
func (s *Service) Acknowledge(ctx context.Context, by ca.Requester, id int64, reason string) (*inventory.Alert, error) {
	if by.Role != inventory.RoleAdmin && by.Role != inventory.RoleUser {
		return nil, forbidden("only a signed-in user may acknowledge an alert")
	}
	reason, err := cleanReason(reason)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Second)
	return s.change(ctx, id, func(a *inventory.Alert) (*inventory.AuditEvent, error) {
		if a.State != inventory.AlertFiring && a.State != inventory.AlertSilenced {
			return nil, fmt.Errorf("alert %d is %s: only firing or silenced alerts can be acknowledged: %w", a.ID, a.State, inventory.ErrState)
		}
		a.State, a.AckBy, a.AckAt, a.AckReason = inventory.AlertAcknowledged, by.Name, now, reason
		return &inventory.AuditEvent{Time: now, Actor: by.Name, Action: "alert.acknowledge",
			Object: inventory.ObjectRef(inventory.KindAlert, a.ID), Summary: inventory.NamedSummary(alertName(a), reason)}, nil
	})
}

// Silence keeps an open alert quiet until until, by an Admin, with a
// reason: no repeats and no severity-change notices until then; it fires
// again (and repeats) afterwards if the condition still holds. Audited
// in the same transaction.
func (s *Service) Silence(ctx context.Context, by ca.Requester, id int64, reason string, until time.Time) (*inventory.Alert, error) {
	if by.Role != inventory.RoleAdmin {
		return nil, forbidden("only an admin may silence an alert")
	}
	reason, err := cleanReason(reason)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Second)
	until = until.UTC().Truncate(time.Second)
	if !until.After(now) || until.Sub(now) > MaxSilence {
		return nil, inventory.Invalid("until", "silence until %s: want a time after now and at most %d days ahead",
			until.Format(time.RFC3339), MaxSilence/day)
	}
	return s.change(ctx, id, func(a *inventory.Alert) (*inventory.AuditEvent, error) {
		if !a.State.Open() {
			return nil, fmt.Errorf("alert %d is resolved: %w", a.ID, inventory.ErrState)
		}
		a.State, a.SilencedBy, a.SilencedUntil, a.SilenceReason = inventory.AlertSilenced, by.Name, until, reason
		return &inventory.AuditEvent{Time: now, Actor: by.Name, Action: "alert.silence",
			Object:  inventory.ObjectRef(inventory.KindAlert, a.ID),
			Summary: inventory.NamedSummary(alertName(a), "until "+until.Format(time.RFC3339)+": "+reason)}, nil
	})
}

// change reads alert id, applies fn and stores the alert with the audit
// event fn returns, in one transaction.
func (s *Service) change(ctx context.Context, id int64, fn func(a *inventory.Alert) (*inventory.AuditEvent, error)) (*inventory.Alert, error) {
	var out *inventory.Alert
	err := s.store.InTx(ctx, func(tx inventory.Store) error {
		a, err := tx.GetAlert(ctx, id)
		if err != nil {
			return err
		}
		audit, err := fn(a)
		if err != nil {
			return err
		}
		out = a
		return tx.UpdateAlert(ctx, a, audit)
	})
	return out, err
}

func alertName(a *inventory.Alert) string { return a.Rule + " on " + a.SubjectName }

// cleanReason trims a reason and checks it is one line of text.
func cleanReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return "", inventory.Invalid("reason", "a reason is required")
	case len(reason) > maxReason:
		return "", inventory.Invalid("reason", "reason of %d bytes: at most %d", len(reason), maxReason)
	case strings.ContainsAny(reason, "\r\n\x00"):
		return "", inventory.Invalid("reason", "the reason must be one line")
	}
	return reason, nil
}
