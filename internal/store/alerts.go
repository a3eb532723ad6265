package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var _ inventory.AlertStore = (*db)(nil)

const alertRuleSelect = `SELECT name, enabled, severity, warn_days, critical_days, warn_fraction,
	critical_fraction, threshold, repeat_seconds, channels, updated_by, updated_at FROM alert_rules`

// ListAlertRules implements inventory.AlertStore.
func (s *db) ListAlertRules(ctx context.Context) ([]inventory.AlertRule, error) {
	rows, err := s.r.QueryContext(ctx, alertRuleSelect+` ORDER BY name`)
	if err != nil {
		return nil, wrap("list alert rules", err)
	}
	defer rows.Close()
	var out []inventory.AlertRule
	for rows.Next() {
		var r inventory.AlertRule
		var repeat int64
		var channels string
		err := rows.Scan(&r.Name, &r.Enabled, &r.Severity, &r.WarnDays, &r.CriticalDays, &r.WarnFraction,
			&r.CriticalFraction, &r.Threshold, &repeat, &channels, &r.UpdatedBy, timeCol{&r.UpdatedAt})
		if err != nil {
			return nil, wrap("list alert rules", err)
		}
		r.Repeat, r.Channels = time.Duration(repeat)*time.Second, splitList(channels)
		out = append(out, r)
	}
	return out, wrapIf("list alert rules", rows.Err())
}

// PutAlertRule implements inventory.AlertStore.
func (s *db) PutAlertRule(ctx context.Context, r *inventory.AlertRule, audit *inventory.AuditEvent) error {
	r.UpdatedAt = s.stamp(r.UpdatedAt)
	if err := s.prepareHot(ctx); err != nil {
		return err
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO alert_rules (name, enabled, severity, warn_days,
			critical_days, warn_fraction, critical_fraction, threshold, repeat_seconds, channels, updated_by,
			updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, severity = excluded.severity,
			warn_days = excluded.warn_days, critical_days = excluded.critical_days,
			warn_fraction = excluded.warn_fraction, critical_fraction = excluded.critical_fraction,
			threshold = excluded.threshold, repeat_seconds = excluded.repeat_seconds,
			channels = excluded.channels, updated_by = excluded.updated_by, updated_at = excluded.updated_at`),
			r.Name, r.Enabled, r.Severity, r.WarnDays, r.CriticalDays, r.WarnFraction, r.CriticalFraction,
			r.Threshold, int64(r.Repeat/time.Second), joinList(r.Channels), r.UpdatedBy, s.t(r.UpdatedAt))
		if err != nil {
			return wrap("put alert rule", err)
		}
		return s.auditTxIf(ctx, tx, audit)
	})
}

const alertColumns = `rule, subject, subject_name, severity, state, summary, fired_at, last_notified_at,
	notifications, ack_by, ack_at, ack_reason, silenced_by, silenced_until, silence_reason, resolved_at`

const alertSelect = `SELECT id, ` + alertColumns + ` FROM alerts`

// alertArgs are the values of alertColumns.
func (s *db) alertArgs(a *inventory.Alert) []any {
	return []any{a.Rule, a.Subject, a.SubjectName, a.Severity, string(a.State), a.Summary, s.t(a.FiredAt),
		s.zeroNull(a.LastNotifiedAt), a.Notifications, a.AckBy, s.zeroNull(a.AckAt), a.AckReason,
		a.SilencedBy, s.zeroNull(a.SilencedUntil), a.SilenceReason, s.zeroNull(a.ResolvedAt)}
}

// zeroNull is t for times whose zero value is stored as NULL.
func (s *db) zeroNull(v time.Time) any {
	if v.IsZero() {
		return nil
	}
	return s.t(v)
}

func scanAlert(row interface{ Scan(...any) error }) (*inventory.Alert, error) {
	var a inventory.Alert
	var state string
	err := row.Scan(&a.ID, &a.Rule, &a.Subject, &a.SubjectName, &a.Severity, &state, &a.Summary,
		timeCol{&a.FiredAt}, timeCol{&a.LastNotifiedAt}, &a.Notifications, &a.AckBy, timeCol{&a.AckAt},
		&a.AckReason, &a.SilencedBy, timeCol{&a.SilencedUntil}, &a.SilenceReason, timeCol{&a.ResolvedAt})
	a.State = inventory.AlertState(state)
	return &a, err
}

// PutAlert implements inventory.AlertStore.
func (s *db) PutAlert(ctx context.Context, a *inventory.Alert) error {
	if a.FiredAt.IsZero() {
		a.FiredAt = s.now()
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO alerts (`+alertColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), s.alertArgs(a)...).Scan(&a.ID)
		if isUniqueViolation(err) {
			return fmt.Errorf("store: put alert: %s on %s is open already: %w", a.Rule, a.Subject, inventory.ErrConflict)
		}
		return wrapIf("put alert", err)
	})
}

// UpdateAlert implements inventory.AlertStore.
func (s *db) UpdateAlert(ctx context.Context, a *inventory.Alert, audit *inventory.AuditEvent) error {
	if err := s.prepareHot(ctx); err != nil {
		return err
	}
	return s.withTx(ctx, func(tx *sql.Tx) error {
		args := append(s.alertArgs(a)[2:], a.ID)
		res, err := tx.ExecContext(ctx, s.q(`UPDATE alerts SET subject_name = ?, severity = ?, state = ?,
			summary = ?, fired_at = ?, last_notified_at = ?, notifications = ?, ack_by = ?, ack_at = ?,
			ack_reason = ?, silenced_by = ?, silenced_until = ?, silence_reason = ?, resolved_at = ?
			WHERE id = ?`), args...)
		if isUniqueViolation(err) {
			return fmt.Errorf("store: update alert %d: %s on %s is open already: %w", a.ID, a.Rule, a.Subject, inventory.ErrConflict)
		}
		if err != nil {
			return wrap("update alert", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return wrap("update alert", errors.Join(err, fmt.Errorf("alert %d: %w", a.ID, inventory.ErrNotFound)))
		}
		return s.auditTxIf(ctx, tx, audit)
	})
}

// GetAlert implements inventory.AlertStore.
func (s *db) GetAlert(ctx context.Context, id int64) (*inventory.Alert, error) {
	a, err := scanAlert(s.r.QueryRowContext(ctx, s.q(alertSelect+` WHERE id = ?`), id))
	if err != nil {
		return nil, wrap(fmt.Sprintf("get alert %d", id), err)
	}
	return a, nil
}

// OpenAlerts implements inventory.AlertStore.
func (s *db) OpenAlerts(ctx context.Context) ([]inventory.Alert, error) {
	return s.queryAlerts(ctx, "open alerts", alertSelect+` WHERE state <> 'resolved' ORDER BY id`)
}

// ListAlerts implements inventory.AlertStore.
func (s *db) ListAlerts(ctx context.Context, f inventory.AlertFilter, p inventory.Page) ([]inventory.Alert, string, error) {
	cur, err := decodeCursor(p.After, 1)
	if err != nil {
		return nil, "", err
	}
	where, args := []string{"1 = 1"}, []any{}
	if cur[0] > 0 {
		where, args = append(where, "id < ?"), append(args, cur[0])
	}
	if len(f.States) > 0 {
		marks := make([]string, len(f.States))
		for i, st := range f.States {
			marks[i], args = "?", append(args, string(st))
		}
		where = append(where, "state IN ("+strings.Join(marks, ", ")+")")
	}
	n := limit(p)
	args = append(args, n+1)
	out, err := s.queryAlerts(ctx, "list alerts",
		s.q(alertSelect+` WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`), args...)
	if err != nil || len(out) <= n {
		return out, "", err
	}
	return out[:n], encodeCursor(out[n-1].ID), nil
}

func (s *db) queryAlerts(ctx context.Context, op, query string, args ...any) ([]inventory.Alert, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []inventory.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, *a)
	}
	return out, wrapIf(op, rows.Err())
}

// CountAlertsByRule implements inventory.AlertStore.
func (s *db) CountAlertsByRule(ctx context.Context, state inventory.AlertState) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT rule, COUNT(*) FROM alerts WHERE state = ? GROUP BY rule`), string(state))
	if err != nil {
		return nil, wrap("count alerts", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var rule string
		var n int
		if err := rows.Scan(&rule, &n); err != nil {
			return nil, wrap("count alerts", err)
		}
		out[rule] = n
	}
	return out, wrapIf("count alerts", rows.Err())
}
