package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const (
	userColumns  = "id, username, role, password_hash, must_change_password, disabled, credential_gen, created_at, updated_at"
	tokenColumns = "id, user_id, name, token_hash, prefix, created_at, last_used_at, expires_at, credential_gen"
)

// PutUser stores a new user and sets u.ID, and u.CreatedAt and u.UpdatedAt
// when zero. A username in use in any letter case gives
// inventory.ErrConflict.
func (s *db) PutUser(ctx context.Context, u *inventory.User) error {
	created := s.stamp(u.CreatedAt)
	updated := created
	if !u.UpdatedAt.IsZero() {
		updated = s.stamp(u.UpdatedAt)
	}
	var id int64
	err := s.w.QueryRowContext(ctx, s.q(`INSERT INTO users (username, role, password_hash, must_change_password,
		disabled, credential_gen, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING RETURNING id`),
		u.Username, string(u.Role), u.PasswordHash, u.MustChangePassword, u.Disabled, u.CredentialGen,
		s.t(created), s.t(updated)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: put user: username %q in use: %w", u.Username, inventory.ErrConflict)
	}
	if err != nil {
		return wrap("put user", err)
	}
	u.ID, u.CreatedAt, u.UpdatedAt = id, created, updated
	return nil
}

// UpdateUser changes u's role, password hash, flags and credential
// generation, and sets u.UpdatedAt to now when zero. An unknown ID gives
// inventory.ErrNotFound.
func (s *db) UpdateUser(ctx context.Context, u *inventory.User) error {
	updated := s.stamp(u.UpdatedAt)
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE users SET role = ?, password_hash = ?, must_change_password = ?,
		disabled = ?, credential_gen = ?, updated_at = ? WHERE id = ?`), string(u.Role), u.PasswordHash,
		u.MustChangePassword, u.Disabled, u.CredentialGen, s.t(updated), u.ID)
	if err := affectedOne(res, err); err != nil {
		return wrap(fmt.Sprintf("update user %d", u.ID), err)
	}
	u.UpdatedAt = updated
	return nil
}

// affectedOne turns a write that touched no row into inventory.ErrNotFound.
func affectedOne(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return inventory.ErrNotFound
	}
	return nil
}

// GetUser returns the user with the given ID, or inventory.ErrNotFound.
func (s *db) GetUser(ctx context.Context, id int64) (*inventory.User, error) {
	return s.oneUser(ctx, fmt.Sprintf("user %d", id), "id = ?", id)
}

// UserByName returns the user named username in any letter case, or
// inventory.ErrNotFound.
func (s *db) UserByName(ctx context.Context, username string) (*inventory.User, error) {
	return s.oneUser(ctx, fmt.Sprintf("user %q", username), "lower(username) = lower(?)", username)
}

func (s *db) oneUser(ctx context.Context, op, cond string, arg any) (*inventory.User, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+userColumns+" FROM users WHERE "+cond), arg)
	u, err := scanUser(row)
	if err != nil {
		return nil, wrap(op, err)
	}
	return u, nil
}

// ListUsers returns every user in ID order.
func (s *db) ListUsers(ctx context.Context) ([]inventory.User, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY id")
	if err != nil {
		return nil, wrap("list users", err)
	}
	defer rows.Close()
	var out []inventory.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap("list users", err)
		}
		out = append(out, *u)
	}
	return out, wrapIf("list users", rows.Err())
}

func scanUser(row interface{ Scan(...any) error }) (*inventory.User, error) {
	var u inventory.User
	var role string
	err := row.Scan(&u.ID, &u.Username, &role, &u.PasswordHash, &u.MustChangePassword, &u.Disabled,
		&u.CredentialGen, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt})
	if err != nil {
		return nil, err
	}
	u.Role = inventory.Role(role)
	return &u, nil
}

// PutToken stores a new API token and sets t.ID, and t.CreatedAt when
// zero. A hash in use gives inventory.ErrConflict, an unknown user
// inventory.ErrNotFound.
func (s *db) PutToken(ctx context.Context, t *inventory.APIToken) error {
	created := s.stamp(t.CreatedAt)
	var id int64
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		if err := s.userExists(ctx, tx, "put token", t.UserID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at,
			expires_at, last_used_at, credential_gen) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`),
			t.UserID, t.Name, t.Hash, t.Prefix, s.t(created), s.nullT(t.ExpiresAt), s.nullT(t.LastUsedAt), t.Gen).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: put token: hash in use: %w", inventory.ErrConflict)
		}
		return wrapIf("put token", err)
	})
	if err != nil {
		return err
	}
	t.ID, t.CreatedAt = id, created
	return nil
}

// userExists returns inventory.ErrNotFound, wrapped for op, unless the
// user with the given ID exists.
func (s *db) userExists(ctx context.Context, tx *sql.Tx, op string, userID int64) error {
	var n int
	err := tx.QueryRowContext(ctx, s.q("SELECT count(*) FROM users WHERE id = ?"), userID).Scan(&n)
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return wrap(fmt.Sprintf("%s: user %d", op, userID), inventory.ErrNotFound)
	}
	return nil
}

// TokenByHash returns the token whose secret hashes to hash, or
// inventory.ErrNotFound.
func (s *db) TokenByHash(ctx context.Context, hash string) (*inventory.APIToken, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+tokenColumns+" FROM api_tokens WHERE token_hash = ?"), hash)
	t, err := scanToken(row)
	if err != nil {
		return nil, wrap("token by hash", err)
	}
	return t, nil
}

// ListTokens returns the user's tokens in ID order.
func (s *db) ListTokens(ctx context.Context, userID int64) ([]inventory.APIToken, error) {
	rows, err := s.r.QueryContext(ctx, s.q("SELECT "+tokenColumns+" FROM api_tokens WHERE user_id = ? ORDER BY id"), userID)
	if err != nil {
		return nil, wrap("list tokens", err)
	}
	defer rows.Close()
	var out []inventory.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, wrap("list tokens", err)
		}
		out = append(out, *t)
	}
	return out, wrapIf("list tokens", rows.Err())
}

func scanToken(row interface{ Scan(...any) error }) (*inventory.APIToken, error) {
	var t inventory.APIToken
	err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &t.Prefix, timeCol{&t.CreatedAt},
		nullTimeCol{&t.LastUsedAt}, nullTimeCol{&t.ExpiresAt}, &t.Gen)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// DeleteToken removes the token with the given ID; an unknown ID gives
// inventory.ErrNotFound.
func (s *db) DeleteToken(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM api_tokens WHERE id = ?"), id)
	return wrapIf(fmt.Sprintf("delete token %d", id), affectedOne(res, err))
}

// TouchToken records that the token was used at at; an unknown ID gives
// inventory.ErrNotFound.
func (s *db) TouchToken(ctx context.Context, id int64, at time.Time) error {
	res, err := s.w.ExecContext(ctx, s.q("UPDATE api_tokens SET last_used_at = ? WHERE id = ?"), s.t(s.stamp(at)), id)
	return wrapIf(fmt.Sprintf("touch token %d", id), affectedOne(res, err))
}

// DeleteUserTokens removes every token of the user and returns how many
// there were; a user without tokens, or an unknown user, gives 0.
func (s *db) DeleteUserTokens(ctx context.Context, userID int64) (int, error) {
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM api_tokens WHERE user_id = ?"), userID)
	n, err := affected(res, err)
	return n, wrapIf(fmt.Sprintf("delete tokens of user %d", userID), err)
}
