package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const sessionColumns = "id, token_hash, user_id, created_at, last_seen_at, remote_addr, user_agent, credential_gen"

// PutSession stores a new web session and sets s.ID, and s.CreatedAt and
// s.LastSeenAt when zero (LastSeenAt defaults to CreatedAt). A hash in use
// gives inventory.ErrConflict, an unknown user inventory.ErrNotFound.
func (s *db) PutSession(ctx context.Context, ss *inventory.Session) error {
	created := s.stamp(ss.CreatedAt)
	seen := created
	if !ss.LastSeenAt.IsZero() {
		seen = s.stamp(ss.LastSeenAt)
	}
	var id int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.userExists(ctx, tx, "put session", ss.UserID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at,
			remote_addr, user_agent, credential_gen) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
			ss.Hash, ss.UserID, s.t(created), s.t(seen), ss.RemoteAddr, ss.UserAgent, ss.Gen).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: put session: hash in use: %w", inventory.ErrConflict)
		}
		return wrapIf("put session", err)
	})
	if err != nil {
		return err
	}
	ss.ID, ss.CreatedAt, ss.LastSeenAt = id, created, seen
	return nil
}

// SessionByHash returns the session whose cookie secret hashes to hash, or
// inventory.ErrNotFound.
func (s *db) SessionByHash(ctx context.Context, hash string) (*inventory.Session, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+sessionColumns+" FROM sessions WHERE token_hash = ?"), hash)
	var ss inventory.Session
	err := row.Scan(&ss.ID, &ss.Hash, &ss.UserID, timeCol{&ss.CreatedAt}, timeCol{&ss.LastSeenAt},
		&ss.RemoteAddr, &ss.UserAgent, &ss.Gen)
	if err != nil {
		return nil, wrap("session by hash", err)
	}
	return &ss, nil
}

// TouchSession sets the session's LastSeenAt to at (now when zero); an
// unknown ID gives inventory.ErrNotFound.
func (s *db) TouchSession(ctx context.Context, id int64, at time.Time) error {
	res, err := s.w.ExecContext(ctx, s.q("UPDATE sessions SET last_seen_at = ? WHERE id = ?"), s.t(s.stamp(at)), id)
	return wrapIf(fmt.Sprintf("touch session %d", id), affectedOne(res, err))
}

// DeleteSession removes the session with the given ID; an unknown ID gives
// inventory.ErrNotFound.
func (s *db) DeleteSession(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM sessions WHERE id = ?"), id)
	return wrapIf(fmt.Sprintf("delete session %d", id), affectedOne(res, err))
}

// DeleteUserSessions removes every session of the user and returns how
// many there were; a user without sessions, or an unknown user, gives 0.
func (s *db) DeleteUserSessions(ctx context.Context, userID int64) (int, error) {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM sessions WHERE user_id = ?"), userID)
	n, err := affected(res, err)
	return n, wrapIf(fmt.Sprintf("delete sessions of user %d", userID), err)
}

// DeleteOtherSessions removes every session of the user except the one
// with ID keep, and returns how many it removed.
func (s *db) DeleteOtherSessions(ctx context.Context, userID, keep int64) (int, error) {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM sessions WHERE user_id = ? AND id <> ?"), userID, keep)
	n, err := affected(res, err)
	return n, wrapIf(fmt.Sprintf("delete other sessions of user %d", userID), err)
}

// DeleteStaleSessions removes the sessions whose stored CreatedAt is before
// createdBefore or whose stored LastSeenAt is before seenBefore, and
// returns how many. A zero time matches no session.
func (s *db) DeleteStaleSessions(ctx context.Context, createdBefore, seenBefore time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM sessions WHERE created_at < ? OR last_seen_at < ?"),
		s.t(ceilSecond(createdBefore)), s.t(ceilSecond(seenBefore)))
	n, err := affected(res, err)
	return n, wrapIf("delete stale sessions", err)
}

// affected returns how many rows a write touched.
func affected(res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
