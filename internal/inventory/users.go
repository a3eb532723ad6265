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
	// CredentialGen is the generation of the user's credentials: sessions
	// and API tokens made under another one do not work. Disabling, an
	// admin's password reset and signing out everywhere move it on, so
	// enabling the user again revives nothing.
	CredentialGen int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
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
	// Gen is the owner's CredentialGen when the token was made; the token
	// works only while they are equal.
	Gen int64
}

// SignInFailures counts the failed sign-ins of one name from one address.
type SignInFailures struct {
	// Name identifies the username tried (package users stores a hash of
	// it, never the text); "" counts every name tried from Addr.
	Name string
	// Addr is the client address (package users keys IPv6 by /64).
	Addr string
	// Failures counts failures since the count last restarted.
	Failures int
	// Last is the time of the latest failure.
	Last time.Time
}

// UserStore is the part of the Store contract that keeps users and their
// API tokens.
type UserStore interface {
	// PutUser stores a new user and sets u.ID (and CreatedAt and UpdatedAt
	// when zero). A username in use, in any letter case, gives ErrConflict.
	PutUser(ctx context.Context, u *User) error
	// UpdateUser changes u's role, password hash, flags, CredentialGen and
	// UpdatedAt (set to now when zero). An unknown ID gives ErrNotFound.
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
	// DeleteUserTokens removes every token of the user and returns how
	// many there were.
	DeleteUserTokens(ctx context.Context, userID int64) (int, error)

	// AddSignInFailure counts one failure of (name, addr) at at,
	// atomically, and returns the record afterwards. A record whose Last
	// is before forgetBefore starts again from one.
	AddSignInFailure(ctx context.Context, name, addr string, at, forgetBefore time.Time) (*SignInFailures, error)
	// SignInFailures returns the records of (name, addr) and ("", addr)
	// that exist, in no particular order.
	SignInFailures(ctx context.Context, name, addr string) ([]SignInFailures, error)
	// ClearSignInFailures removes the records of name (not ""): at every
	// address, together with the ("", addr) records of those addresses,
	// and returns how many records it removed.
	ClearSignInFailures(ctx context.Context, name string) (int, error)
	// ClearSignInFailure removes the record of (name, addr), if any.
	ClearSignInFailure(ctx context.Context, name, addr string) error
	// ForgetSignInFailures removes the records whose Last is before t and
	// returns how many.
	ForgetSignInFailures(ctx context.Context, before time.Time) (int, error)
}
