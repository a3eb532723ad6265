// Package users manages the people who use certkeeper and their API
// tokens: argon2id password hashes, password rules, sign-in, and bearer
// tokens stored only as SHA-256 hashes. Every change is written to the
// audit trail, never with a password or token secret.
package users

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Store is what the service needs from the inventory.
type Store interface {
	inventory.UserStore
	inventory.SessionStore
	inventory.SettingsStore
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
	// InTx writes a change and its audit event in one transaction.
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// auditor appends audit events: the store, or a transaction of it.
type auditor interface {
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
}

// ErrInvalidCredentials is returned by Authenticate for an unknown user, a
// wrong password and a disabled user alike.
var ErrInvalidCredentials = errors.New("users: invalid username or password")

// Service manages users and tokens. It is safe for concurrent use.
type Service struct {
	store Store
	now   func() time.Time
	rand  io.Reader
	// Params are the argon2id costs for new hashes; New sets
	// DefaultParams.
	Params Params
	// Sessions bounds web sessions and sign-in attempts; New sets
	// DefaultSessionPolicy.
	Sessions SessionPolicy
	// hashing bounds the argon2id computations running at once.
	hashing *hashLimiter
}

// New returns a service over st. A nil now means time.Now; a nil random
// means crypto/rand.Reader.
func New(st Store, now func() time.Time, random io.Reader) *Service {
	if now == nil {
		now = time.Now
	}
	if random == nil {
		random = rand.Reader
	}
	return &Service{store: st, now: now, rand: random, Params: DefaultParams, Sessions: DefaultSessionPolicy,
		hashing: newHashLimiter(HashSlots(DefaultParams), DefaultHashWait)}
}

// LimitHashing lets at most slots password hashes (verifications
// included) run at once, a caller waiting up to wait for a slot before
// ErrBusy. New sets HashSlots(DefaultParams) and DefaultHashWait. Call it
// before the service is used.
func (s *Service) LimitHashing(slots int, wait time.Duration) {
	s.hashing = newHashLimiter(slots, wait)
}

// usernameRE is the allowed shape of a username.
var usernameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// Create adds a user. When password is empty a random one is generated;
// the password in use is returned so that it can be shown once. A
// generated password must be changed at first sign-in.
func (s *Service) Create(ctx context.Context, actor, username string, role inventory.Role, password string) (string, error) {
	if !usernameRE.MatchString(username) {
		return "", invalid("username", fmt.Errorf("users: username %q: use 1 to 64 letters, digits, '.', '_', '@' or '-'", username))
	}
	if !role.Valid() {
		return "", invalid("role", fmt.Errorf("users: unknown role %q (want admin or user)", role))
	}
	generated := password == ""
	password, hash, err := s.newPassword(ctx, username, password)
	if err != nil {
		return "", err
	}
	now := s.now().UTC()
	u := &inventory.User{Username: username, Role: role, PasswordHash: hash, MustChangePassword: generated,
		CreatedAt: now, UpdatedAt: now}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "user.create", u, "role "+string(role))
	})
	if errors.Is(err, inventory.ErrConflict) {
		return "", fmt.Errorf("users: user %q exists: %w", username, inventory.ErrConflict)
	}
	if err != nil {
		return "", err
	}
	return password, nil
}

// newPassword checks password, or generates one when it is empty, and
// returns it with its hash.
func (s *Service) newPassword(ctx context.Context, username, password string) (string, string, error) {
	if password == "" {
		var err error
		if password, err = s.randomPassword(); err != nil {
			return "", "", err
		}
	}
	if err := CheckPassword(username, password); err != nil {
		return "", "", invalid("password", err)
	}
	hash, err := s.hash(ctx, password)
	return password, hash, err
}

// randomPassword returns 24 lower-case base32 characters (120 bits).
func (s *Service) randomPassword() (string, error) {
	b := make([]byte, 15)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("users: random password: %w", err)
	}
	return lowerBase32.EncodeToString(b), nil
}

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// List returns every user in ID order.
func (s *Service) List(ctx context.Context) ([]inventory.User, error) {
	return s.store.ListUsers(ctx)
}

// ResetPassword gives the user a new random password, returned once, which
// must be changed at the next sign-in, and ends all their sessions and API
// tokens: a reset means the old password may be known to others.
func (s *Service) ResetPassword(ctx context.Context, actor, username string) (string, error) {
	u, err := s.user(ctx, username)
	if err != nil {
		return "", err
	}
	password, hash, err := s.newPassword(ctx, u.Username, "")
	if err != nil {
		return "", err
	}
	u.PasswordHash, u.MustChangePassword = hash, true
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		sessions, tokens, err := s.endCredentials(ctx, tx, u)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "user.password_reset", u, "one-time password set; "+ended(sessions, tokens))
	})
	if err != nil {
		return "", err
	}
	return password, nil
}

// endCredentials stores u with its credential generation moved on, which
// ends every session and API token of u at once and for good (enabling u
// again revives none), then deletes them, all through st (the caller's
// transaction). It returns how many sessions and tokens it deleted.
func (s *Service) endCredentials(ctx context.Context, st inventory.Store, u *inventory.User) (sessions, tokens int, err error) {
	u.CredentialGen++
	u.UpdatedAt = s.now().UTC()
	if err := st.UpdateUser(ctx, u); err != nil {
		return 0, 0, err
	}
	if sessions, err = st.DeleteUserSessions(ctx, u.ID); err != nil {
		return 0, 0, err
	}
	tokens, err = st.DeleteUserTokens(ctx, u.ID)
	return sessions, tokens, err
}

// ended says, for the audit trail, what endCredentials ended.
func ended(sessions, tokens int) string {
	return fmt.Sprintf("%d sessions and %d API tokens ended", sessions, tokens)
}

// SetRole changes the user's role.
func (s *Service) SetRole(ctx context.Context, actor, username string, role inventory.Role) error {
	if !role.Valid() {
		return invalid("role", fmt.Errorf("users: unknown role %q (want admin or user)", role))
	}
	u, err := s.user(ctx, username)
	if err != nil {
		return err
	}
	if role != inventory.RoleAdmin {
		if err := s.keepAnAdmin(ctx, u); err != nil {
			return err
		}
	}
	old := u.Role
	u.Role = role
	return s.update(ctx, actor, "user.role", u, fmt.Sprintf("role %s -> %s", old, role))
}

// Change is what Edit changes of a user; the zero value changes
// nothing.
type Change struct {
	// Role, when set, is the new role.
	Role inventory.Role
	// Disabled, when not nil, disables or enables the user.
	Disabled *bool
}

// Edit applies c to u, as SetRole and then Disable or Enable do, calling
// each only when it changes something, and returns the user as stored
// afterwards.
func (s *Service) Edit(ctx context.Context, actor string, u *inventory.User, c Change) (*inventory.User, error) {
	if c.Role != "" && c.Role != u.Role {
		if err := s.SetRole(ctx, actor, u.Username, c.Role); err != nil {
			return nil, err
		}
	}
	if c.Disabled != nil && *c.Disabled != u.Disabled {
		set := s.Enable
		if *c.Disabled {
			set = s.Disable
		}
		if err := set(ctx, actor, u.Username); err != nil {
			return nil, err
		}
	}
	return s.store.GetUser(ctx, u.ID)
}

// keepAnAdmin refuses to demote or disable u when u is the last enabled
// admin: nobody could manage users, settings or CAs afterwards. (Two
// admins demoting each other at the same moment can still race.)
func (s *Service) keepAnAdmin(ctx context.Context, u *inventory.User) error {
	if u.Role != inventory.RoleAdmin || u.Disabled {
		return nil
	}
	all, err := s.List(ctx)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.ID != u.ID && o.Role == inventory.RoleAdmin && !o.Disabled {
			return nil
		}
	}
	return &tagged{err: fmt.Errorf("users: %s is the last enabled admin; make another user admin first", u.Username), tag: inventory.ErrState}
}

// Disable stops the user signing in and ends all their sessions and API
// tokens; enabling them again revives none.
func (s *Service) Disable(ctx context.Context, actor, username string) error {
	return s.setDisabled(ctx, actor, username, true, "user.disable")
}

// Enable lets a disabled user sign in again, with their password; their
// old sessions and API tokens stay ended.
func (s *Service) Enable(ctx context.Context, actor, username string) error {
	return s.setDisabled(ctx, actor, username, false, "user.enable")
}

func (s *Service) setDisabled(ctx context.Context, actor, username string, disabled bool, action string) error {
	u, err := s.user(ctx, username)
	if err != nil {
		return err
	}
	if !disabled {
		u.Disabled = false
		return s.update(ctx, actor, action, u, "")
	}
	if err := s.keepAnAdmin(ctx, u); err != nil {
		return err
	}
	u.Disabled = true
	return s.store.InTx(ctx, func(tx inventory.Store) error {
		sessions, tokens, err := s.endCredentials(ctx, tx, u)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, action, u, ended(sessions, tokens))
	})
}

// Authenticate checks a username and password and returns the user. An
// unknown user, a wrong password and a disabled user all give
// ErrInvalidCredentials, after the same amount of hashing work. The
// caller must send a user with MustChangePassword set to change it.
func (s *Service) Authenticate(ctx context.Context, username, password string) (*inventory.User, error) {
	u, ok, err := s.checkPassword(ctx, username, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrInvalidCredentials
	}
	return u, nil
}

// hash derives a hash of password with s.Params in a hashing slot.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	var hash string
	var err error
	if lerr := s.hashing.run(ctx, func() { hash, err = HashPassword(password, s.Params, s.rand) }); lerr != nil {
		return "", lerr
	}
	return hash, err
}

// verify checks password against u's hash in a hashing slot.
func (s *Service) verify(ctx context.Context, u *inventory.User, password string) (bool, error) {
	var ok bool
	var err error
	if lerr := s.hashing.run(ctx, func() { ok, err = VerifyPassword(u.PasswordHash, password) }); lerr != nil {
		return false, lerr
	}
	if err != nil {
		return false, fmt.Errorf("users: user %q: %w", u.Username, err)
	}
	return ok, nil
}

// dummyVerify spends, in a hashing slot, the time and memory verifying a
// hash made with s.Params would, so that an unknown username answers
// like a known one.
func (s *Service) dummyVerify(ctx context.Context, password string) error {
	if s.Params.check() != nil {
		return nil
	}
	return s.hashing.run(ctx, func() {
		argon2.IDKey([]byte(password), make([]byte, saltLen), s.Params.Time, s.Params.Memory, s.Params.Threads, keyLen)
	})
}

// tagged keeps an error's one-line message and makes it match tag too
// (inventory.ErrState, or a *inventory.FieldError so that the API can name
// the field).
type tagged struct{ err, tag error }

func (e *tagged) Error() string   { return e.err.Error() }
func (e *tagged) Unwrap() []error { return []error{e.err, e.tag} }

// invalid marks err as bad input in field (an API JSON name).
func invalid(field string, err error) error {
	reason := strings.TrimPrefix(err.Error(), "users: ")
	return &tagged{err: err, tag: &inventory.FieldError{Field: field, Reason: reason}}
}

// ByID returns user id. An unknown user gives inventory.ErrNotFound.
func (s *Service) ByID(ctx context.Context, id int64) (*inventory.User, error) {
	return s.store.GetUser(ctx, id)
}

// ByName returns the user called username, ignoring letter case. An
// unknown user gives an error wrapping inventory.ErrNotFound.
func (s *Service) ByName(ctx context.Context, username string) (*inventory.User, error) {
	return s.user(ctx, username)
}

// user finds a user by name, with an error that names it.
func (s *Service) user(ctx context.Context, username string) (*inventory.User, error) {
	u, err := s.store.UserByName(ctx, username)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, fmt.Errorf("users: no user %q: %w", username, inventory.ErrNotFound)
	}
	return u, err
}

// update stores u and audits the change, in one transaction.
func (s *Service) update(ctx context.Context, actor, action string, u *inventory.User, summary string) error {
	u.UpdatedAt = s.now().UTC()
	return s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, action, u, summary)
	})
}

// audit records an action on u through st (the store, or the
// transaction of the change). The summary must hold no secret.
func (s *Service) audit(ctx context.Context, st auditor, actor, action string, u *inventory.User, summary string) error {
	return st.AppendAudit(ctx, &inventory.AuditEvent{Time: s.now().UTC(), Actor: actor, Action: action,
		Object: inventory.ObjectRef(inventory.KindUser, u.ID), Summary: inventory.NamedSummary(u.Username, summary)})
}
