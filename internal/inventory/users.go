package inventory

import (
	"context"
	"time"
)

// Role is what a user may do: "admin" or "user".
type Role string

// Roles.
const (
	RoleAdmin Role = "admin"
	RoleUser  Role = "user"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleUser }

// User is a person who signs in to certkeeper. Usernames are unique
// regardless of letter case.
type User struct {
	ID       int64
	Username string
	Role     Role
	// PasswordHash is the encoded argon2id hash (see package users); never
	// the password.
	PasswordHash string
	// MustChangePassword is set for a generated or reset password: the
	// user must choose a new one at the next sign-in.
	MustChangePassword bool
	// Disabled users cannot sign in and their API tokens do not work.
	Disabled bool
	// FailedLogins counts wrong passwords since the last successful
	// sign-in or lock; LockedUntil, when set and in the future, refuses
	// sign-in. Only LoginFailed and LoginSucceeded change them.
	FailedLogins int
	LockedUntil  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// APIToken is a bearer credential for the API, owned by a user. The secret
// itself is shown once when made and never stored.
type APIToken struct {
	ID     int64
	UserID int64
	// Name is the owner's label for the token.
	Name string
	// Hash is the lowercase hex SHA-256 of the secret; it is unique.
	Hash string
	// Prefix is the first characters of the secret, for recognising a
	// token in lists.
	Prefix    string
	CreatedAt time.Time
	// LastUsedAt is nil until the token is first used.
	LastUsedAt *time.Time
	// ExpiresAt is nil for a token that does not expire.
	ExpiresAt *time.Time
}

// UserStore is the part of the Store contract that keeps users and their
// API tokens.
type UserStore interface {
	// PutUser stores a new user and sets u.ID (and CreatedAt and UpdatedAt
	// when zero). A username in use, in any letter case, gives ErrConflict.
	PutUser(ctx context.Context, u *User) error
	// UpdateUser changes u's role, password hash, flags and UpdatedAt (set
	// to now when zero). An unknown ID gives ErrNotFound.
	UpdateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, id int64) (*User, error)
	// UserByName finds a user by username, ignoring letter case.
	UserByName(ctx context.Context, username string) (*User, error)
	// ListUsers returns every user in ID order.
	ListUsers(ctx context.Context) ([]User, error)

	// PutToken stores a new token and sets t.ID (and CreatedAt when zero).
	// A hash in use gives ErrConflict; an unknown user ErrNotFound.
	PutToken(ctx context.Context, t *APIToken) error
	TokenByHash(ctx context.Context, hash string) (*APIToken, error)
	// ListTokens returns the user's tokens in ID order.
	ListTokens(ctx context.Context, userID int64) ([]APIToken, error)
	// DeleteToken removes a token; an unknown ID gives ErrNotFound.
	DeleteToken(ctx context.Context, id int64) error
	// TouchToken sets the token's LastUsedAt to at; an unknown ID gives
	// ErrNotFound.
	TouchToken(ctx context.Context, id int64, at time.Time) error

	// LoginFailed counts a wrong password for the user, atomically. When
	// the count reaches maxFailures it sets LockedUntil to at+lockFor and
	// restarts the count. It returns the user as stored afterwards; an
	// unknown ID gives ErrNotFound.
	LoginFailed(ctx context.Context, id int64, at time.Time, maxFailures int, lockFor time.Duration) (*User, error)
	// LoginSucceeded clears the failure count and any lock.
	LoginSucceeded(ctx context.Context, id int64) error
}
