package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const emailColumns = "id, sent_at, kind, from_addr, to_addrs, subject, body, status, error"

// PutEmail stores e and sets e.ID, and e.Time to now when zero (times are
// kept to the second). The store keeps what it is given: the recipients
// are a JSON array in to_addrs, so any address (even one with a newline,
// recorded for a failed send) reads back unchanged.
func (s *db) PutEmail(ctx context.Context, e *inventory.Email) error {
	at := s.stamp(e.Time)
	to, err := json.Marshal(e.To)
	if err != nil {
		return wrap("put email", err)
	}
	var id int64
	err = s.w.QueryRowContext(ctx, s.q(`INSERT INTO emails (sent_at, kind, from_addr, to_addrs, subject, body,
		status, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		s.t(at), e.Kind, e.From, string(to), e.Subject, e.Body, e.Status, e.Error).Scan(&id)
	if err != nil {
		return wrap("put email", err)
	}
	e.ID, e.Time = id, at
	return nil
}

// ListEmails returns one page of e-mails, newest first (by Time, then by
// ID for e-mails of the same second), and the cursor of the next page (""
// on the last page). The cursor encodes the last item's (Time, ID); a
// malformed cursor gives inventory.ErrBadCursor.
func (s *db) ListEmails(ctx context.Context, p inventory.Page) ([]inventory.Email, string, error) {
	cur, err := decodeCursor(p.After, 2)
	if err != nil {
		return nil, "", err
	}
	n := limit(p)
	query := "SELECT " + emailColumns + " FROM emails"
	var args []any
	if p.After != "" {
		query += " WHERE (sent_at, id) < (?, ?)"
		args = append(args, s.t(time.Unix(cur[0], 0)), cur[1])
	}
	rows, err := s.r.QueryContext(ctx, s.q(query+" ORDER BY sent_at DESC, id DESC LIMIT ?"), append(args, n+1)...)
	if err != nil {
		return nil, "", wrap("list emails", err)
	}
	defer rows.Close()
	var out []inventory.Email
	for rows.Next() {
		e, err := scanEmail(rows)
		if err != nil {
			return nil, "", wrap("list emails", err)
		}
		out = append(out, *e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap("list emails", err)
	}
	if len(out) <= n {
		return out, "", nil
	}
	out = out[:n]
	return out, encodeCursor(out[n-1].Time.Unix(), out[n-1].ID), nil
}

func scanEmail(row interface{ Scan(...any) error }) (*inventory.Email, error) {
	var e inventory.Email
	var to string
	err := row.Scan(&e.ID, timeCol{&e.Time}, &e.Kind, &e.From, &to, &e.Subject, &e.Body, &e.Status, &e.Error)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(to), &e.To); err != nil {
		return nil, fmt.Errorf("email %d: recipients: %w", e.ID, err)
	}
	if len(e.To) == 0 {
		e.To = nil
	}
	return &e, nil
}
