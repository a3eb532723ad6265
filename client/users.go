package client

import (
	"context"
	"net/url"
	"time"
)

// User is a person who uses certkeeper.
type User struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	// Role is admin or user.
	Role               string    `json:"role"`
	Disabled           bool      `json:"disabled"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// UserList lists users in ID order.
type UserList struct {
	Items []User `json:"items"`
}

// NewUser creates a user.
type NewUser struct {
	Username string `json:"username"`
	Role     string `json:"role"`
	// Password is the initial password; "" generates one, returned once,
	// which must be changed at first sign-in.
	Password string `json:"password,omitempty"`
}

// CreatedUser is a new user and, when it was generated, its password
// (shown this once).
type CreatedUser struct {
	User     User   `json:"user"`
	Password string `json:"password,omitempty"`
}

// UserUpdate changes a user; nil and "" fields are left as they are.
type UserUpdate struct {
	Role     string `json:"role,omitempty"`
	Disabled *bool  `json:"disabled,omitempty"`
}

// PasswordReset is a one-time password, shown this once.
type PasswordReset struct {
	Password string `json:"password"`
}

// Token is an API token; its secret is only in CreatedToken.
type Token struct {
	ID     int64  `json:"id"`
	UserID int64  `json:"user_id"`
	Name   string `json:"name"`
	// Prefix is the secret's first characters, to recognise it.
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
}

// TokenList lists tokens in ID order.
type TokenList struct {
	Items []Token `json:"items"`
}

// NewToken creates a token for the caller, or with CreateUserToken for
// another user.
type NewToken struct {
	Name string `json:"name"`
	// TTL is a Go duration ("720h"); "" means the token does not expire.
	TTL string `json:"ttl,omitempty"`
}

// CreatedToken is a new token with its secret, shown this once.
type CreatedToken struct {
	Token  Token  `json:"token"`
	Secret string `json:"secret"`
}

// Unlocked says how many sign-in failure records an unlock cleared.
type Unlocked struct {
	Cleared int `json:"cleared"`
}

// TokenPolicy is the instance's rule for API tokens.
type TokenPolicy struct {
	// MaxLifetime is a Go duration ("720h") capping every token's life
	// from its creation: new tokens may not ask for more, and older ones
	// stop at creation plus it. "" or "0s" means no cap.
	MaxLifetime string `json:"max_lifetime"`
}

// Me returns the user the client acts as.
func (c *Client) Me(ctx context.Context) (*User, error) {
	var out User
	return &out, c.do(ctx, call{method: "GET", path: path("me"), out: &out})
}

// ListUsers returns every user (admin).
func (c *Client) ListUsers(ctx context.Context) (*UserList, error) {
	var out UserList
	return &out, c.do(ctx, call{method: "GET", path: path("users"), out: &out})
}

// UserByName returns the user called name, letter case ignored (admin);
// none is an error that IsNotFound reports.
func (c *Client) UserByName(ctx context.Context, name string) (*User, error) {
	if name == "" {
		return nil, errEmptyName
	}
	var out UserList
	err := c.do(ctx, call{method: "GET", path: path("users"), query: url.Values{"username": {name}}, out: &out})
	if err != nil {
		return nil, err
	}
	if len(out.Items) == 0 {
		return nil, notFound("no user %q", name)
	}
	return &out.Items[0], nil
}

// CreateUser adds a user (admin).
func (c *Client) CreateUser(ctx context.Context, in NewUser) (*CreatedUser, error) {
	var out CreatedUser
	return &out, c.do(ctx, call{method: "POST", path: path("users"), in: in, out: &out})
}

// UpdateUser changes a user's role or disabled flag (admin).
func (c *Client) UpdateUser(ctx context.Context, id int64, in UserUpdate) (*User, error) {
	var out User
	return &out, c.do(ctx, call{method: "PUT", path: path("users", id), in: in, out: &out})
}

// ResetPassword gives a user a one-time password (admin).
func (c *Client) ResetPassword(ctx context.Context, id int64) (*PasswordReset, error) {
	var out PasswordReset
	return &out, c.do(ctx, call{method: "POST", path: path("users", id, "reset-password"), out: &out})
}

// UnlockUser ends a user's sign-in backoff: it forgets the failed
// sign-ins of their name from every address, and those addresses'
// failures (admin).
func (c *Client) UnlockUser(ctx context.Context, id int64) (*Unlocked, error) {
	var out Unlocked
	return &out, c.do(ctx, call{method: "POST", path: path("users", id, "unlock"), out: &out})
}

// TokenPolicy returns the API token policy in force.
func (c *Client) TokenPolicy(ctx context.Context) (*TokenPolicy, error) {
	var out TokenPolicy
	return &out, c.do(ctx, call{method: "GET", path: path("token-policy"), out: &out})
}

// SetTokenPolicy changes the API token policy (admin).
func (c *Client) SetTokenPolicy(ctx context.Context, in TokenPolicy) (*TokenPolicy, error) {
	var out TokenPolicy
	return &out, c.do(ctx, call{method: "PUT", path: path("token-policy"), in: in, out: &out})
}

// ListTokens returns the caller's tokens.
func (c *Client) ListTokens(ctx context.Context) (*TokenList, error) {
	var out TokenList
	return &out, c.do(ctx, call{method: "GET", path: path("tokens"), out: &out})
}

// CreateToken makes a token for the caller.
func (c *Client) CreateToken(ctx context.Context, in NewToken) (*CreatedToken, error) {
	var out CreatedToken
	return &out, c.do(ctx, call{method: "POST", path: path("tokens"), in: in, out: &out})
}

// ListUserTokens returns the tokens of user id (admin).
func (c *Client) ListUserTokens(ctx context.Context, id int64) (*TokenList, error) {
	var out TokenList
	return &out, c.do(ctx, call{method: "GET", path: path("users", id, "tokens"), out: &out})
}

// CreateUserToken makes a token for user id (admin).
func (c *Client) CreateUserToken(ctx context.Context, id int64, in NewToken) (*CreatedToken, error) {
	var out CreatedToken
	return &out, c.do(ctx, call{method: "POST", path: path("users", id, "tokens"), in: in, out: &out})
}

// DeleteToken revokes a token: one of the caller's, or any for an admin.
func (c *Client) DeleteToken(ctx context.Context, id int64) error {
	return c.do(ctx, call{method: "DELETE", path: path("tokens", id)})
}
