package store

import (
	"context"
	"math"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// AppendAudit adds e to the audit trail and sets e.ID, and e.Time to the
// current time when it was zero (times are kept to the second).
func (s *db) AppendAudit(ctx context.Context, e *inventory.AuditEvent) error {
	at := s.stamp(e.Time)
	var id int64
	err := s.w.QueryRowContext(ctx, s.q(`INSERT INTO audit_events (time, actor, action, object, summary)
		VALUES (?, ?, ?, ?, ?) RETURNING id`), s.t(at), e.Actor, e.Action, e.Object, e.Summary).Scan(&id)
	if err != nil {
		return wrap("append audit", err)
	}
	e.ID, e.Time = id, at
	return nil
}

// ListAudit returns one page of the audit events at or after since (all
// events when since is zero) in the order they were appended, and the
// cursor of the next page ("" on the last page).
func (s *db) ListAudit(ctx context.Context, since time.Time, p inventory.Page) ([]inventory.AuditEvent, string, error) {
	return s.listAudit(ctx, since, p, false)
}

// ListAuditNewest is ListAudit newest first.
func (s *db) ListAuditNewest(ctx context.Context, since time.Time, p inventory.Page) ([]inventory.AuditEvent, string, error) {
	return s.listAudit(ctx, since, p, true)
}

func (s *db) listAudit(ctx context.Context, since time.Time, p inventory.Page, newest bool) ([]inventory.AuditEvent, string, error) {
	cur, err := decodeCursor(p.After, 1)
	if err != nil {
		return nil, "", err
	}
	n := limit(p)
	query := "SELECT id, time, actor, action, object, summary FROM audit_events WHERE id > ?"
	order := " ORDER BY id LIMIT ?"
	args := []any{cur[0]}
	if newest {
		query, order = "SELECT id, time, actor, action, object, summary FROM audit_events WHERE id < ?", " ORDER BY id DESC LIMIT ?"
		if p.After == "" {
			args[0] = int64(math.MaxInt64)
		}
	}
	if !since.IsZero() {
		query += " AND time >= ?"
		args = append(args, s.t(ceilSecond(since)))
	}
	rows, err := s.r.QueryContext(ctx, s.q(query+order), append(args, n+1)...)
	if err != nil {
		return nil, "", wrap("list audit", err)
	}
	defer rows.Close()
	var out []inventory.AuditEvent
	for rows.Next() {
		var e inventory.AuditEvent
		if err := rows.Scan(&e.ID, timeCol{&e.Time}, &e.Actor, &e.Action, &e.Object, &e.Summary); err != nil {
			return nil, "", wrap("list audit", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap("list audit", err)
	}
	if len(out) <= n {
		return out, "", nil
	}
	out = out[:n]
	return out, encodeCursor(out[n-1].ID), nil
}
