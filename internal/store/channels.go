package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const channelColumns = "id, name, format, url, sealed_secret, created_at, created_by"

// PutChannel stores a new channel and sets c.ID, and c.CreatedAt to now
// when zero. A name in use gives inventory.ErrConflict.
func (s *db) PutChannel(ctx context.Context, c *inventory.Channel) error {
	at := s.stamp(c.CreatedAt)
	var sealed any
	if len(c.SealedSecret) > 0 {
		sealed = c.SealedSecret
	}
	op := fmt.Sprintf("put channel %q", c.Name)
	var id int64
	err := s.w.QueryRowContext(ctx, s.q(`INSERT INTO channels (name, format, url, sealed_secret, created_at,
		created_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
		c.Name, c.Format, c.URL, sealed, s.t(at), c.CreatedBy).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: name in use: %w", op, inventory.ErrConflict)
	}
	if err != nil {
		return wrap(op, err)
	}
	c.ID, c.CreatedAt = id, at
	return nil
}

// ChannelByName returns the channel of that name, or inventory.ErrNotFound.
func (s *db) ChannelByName(ctx context.Context, name string) (*inventory.Channel, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+channelColumns+" FROM channels WHERE name = ?"), name)
	c, err := scanChannel(row)
	if err != nil {
		return nil, wrap(fmt.Sprintf("channel %q", name), err)
	}
	return c, nil
}

// ListChannels returns every channel, by name. Channels are few.
func (s *db) ListChannels(ctx context.Context) ([]inventory.Channel, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+channelColumns+" FROM channels ORDER BY name")
	if err != nil {
		return nil, wrap("list channels", err)
	}
	defer rows.Close()
	var out []inventory.Channel
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, wrap("list channels", err)
		}
		out = append(out, *c)
	}
	return out, wrapIf("list channels", rows.Err())
}

// DeleteChannel removes the channel of that name; its notifications stay.
// An unknown name gives inventory.ErrNotFound.
func (s *db) DeleteChannel(ctx context.Context, name string) error {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM channels WHERE name = ?"), name)
	return wrapIf(fmt.Sprintf("delete channel %q", name), affectedOne(res, err))
}

// RewrapChannelSecrets replaces every non-empty sealed secret with what
// rewrap makes of it, in one transaction, and returns how many.
func (s *db) RewrapChannelSecrets(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) (int, error) {
	total := 0
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		total = 0
		ids, sealed, err := s.sealedChannels(ctx, tx)
		if err != nil {
			return err
		}
		for i, id := range ids {
			fresh, err := rewrap(sealed[i])
			if err != nil {
				return fmt.Errorf("store: rewrap channel %d: %w", id, err)
			}
			_, err = tx.ExecContext(ctx, s.q("UPDATE channels SET sealed_secret = ? WHERE id = ?"), fresh, id)
			if err != nil {
				return wrap(fmt.Sprintf("rewrap channel %d: update", id), err)
			}
			total++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// sealedChannels reads the IDs and sealed secrets of the channels that
// have one; the rows are closed before the updates.
func (s *db) sealedChannels(ctx context.Context, tx *sql.Tx) ([]int64, [][]byte, error) {
	const op = "rewrap channels: read"
	rows, err := tx.QueryContext(ctx, "SELECT id, sealed_secret FROM channels WHERE sealed_secret IS NOT NULL ORDER BY id")
	if err != nil {
		return nil, nil, wrap(op, err)
	}
	defer rows.Close()
	var ids []int64
	var sealed [][]byte
	for rows.Next() {
		var id int64
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return nil, nil, wrap(op, err)
		}
		if len(b) > 0 {
			ids, sealed = append(ids, id), append(sealed, b)
		}
	}
	return ids, sealed, wrapIf(op, rows.Err())
}

func scanChannel(row interface{ Scan(...any) error }) (*inventory.Channel, error) {
	var c inventory.Channel
	err := row.Scan(&c.ID, &c.Name, &c.Format, &c.URL, &c.SealedSecret, timeCol{&c.CreatedAt}, &c.CreatedBy)
	if err != nil {
		return nil, err
	}
	if len(c.SealedSecret) == 0 {
		c.SealedSecret = nil
	}
	return &c, nil
}

const notificationColumns = "id, sent_at, channel, kind, notice_key, subject, status, attempts, http_status, error"

// PutNotification stores n and sets n.ID, and n.Time to now when zero
// (times are kept to the second).
func (s *db) PutNotification(ctx context.Context, n *inventory.Notification) error {
	at := s.stamp(n.Time)
	var id int64
	err := s.w.QueryRowContext(ctx, s.q(`INSERT INTO notifications (sent_at, channel, kind, notice_key, subject,
		status, attempts, http_status, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		s.t(at), n.Channel, n.Kind, n.Key, n.Subject, n.Status, n.Attempts, n.HTTPStatus, n.Error).Scan(&id)
	if err != nil {
		return wrap("put notification", err)
	}
	n.ID, n.Time = id, at
	return nil
}

// ListNotifications returns one page of notifications, newest first (by
// Time, then ID), and the cursor of the next page ("" on the last). A
// malformed cursor gives inventory.ErrBadCursor.
func (s *db) ListNotifications(ctx context.Context, p inventory.Page) ([]inventory.Notification, string, error) {
	cur, err := decodeCursor(p.After, 2)
	if err != nil {
		return nil, "", err
	}
	n := limit(p)
	query := "SELECT " + notificationColumns + " FROM notifications"
	var args []any
	if p.After != "" {
		query += " WHERE (sent_at, id) < (?, ?)"
		args = append(args, s.t(time.Unix(cur[0], 0)), cur[1])
	}
	rows, err := s.r.QueryContext(ctx, s.q(query+" ORDER BY sent_at DESC, id DESC LIMIT ?"), append(args, n+1)...)
	if err != nil {
		return nil, "", wrap("list notifications", err)
	}
	defer rows.Close()
	var out []inventory.Notification
	for rows.Next() {
		var x inventory.Notification
		if err := rows.Scan(&x.ID, timeCol{&x.Time}, &x.Channel, &x.Kind, &x.Key, &x.Subject, &x.Status,
			&x.Attempts, &x.HTTPStatus, &x.Error); err != nil {
			return nil, "", wrap("list notifications", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap("list notifications", err)
	}
	if len(out) <= n {
		return out, "", nil
	}
	out = out[:n]
	return out, encodeCursor(out[n-1].Time.Unix(), out[n-1].ID), nil
}
