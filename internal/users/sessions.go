package users

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// SessionPolicy bounds web sessions and sign-in attempts.
type SessionPolicy struct {
	// Idle ends a session not used for this long.
	Idle time.Duration
	// Absolute ends a session this long after sign-in, however busy.
	Absolute time.Duration
	// MaxFailures wrong passwords in a row lock the user for LockFor.
	MaxFailures int
	LockFor     time.Duration
}

// DefaultSessionPolicy: 30 minutes idle, 12 hours at most, five wrong
// passwords lock the user for 15 minutes.
var DefaultSessionPolicy = SessionPolicy{Idle: 30 * time.Minute, Absolute: 12 * time.Hour,
	MaxFailures: 5, LockFor: 15 * time.Minute}

// Session errors.
var (
	// ErrNoSession means the cookie names no live session: unknown,
	// signed out, idle or too old, or its user is disabled.
	ErrNoSession = errors.New("users: not signed in, or the session has ended")
	// ErrLocked means too many wrong passwords: sign-in is refused for a
	// while, even with the right one.
	ErrLocked = errors.New("users: too many failed sign-ins; try again later")
)

// SessionPrefix starts every session secret.
const SessionPrefix = "cks_"

// sessionTouch is how stale a session's LastSeenAt may get before a
// request writes it.
const sessionTouch = time.Minute

// Login checks the password and opens a session, returning the user and
// the session secret for the cookie. Wrong passwords are counted; the
// MaxFailures-th locks the user for LockFor. A user with
// MustChangePassword set still signs in: the caller sends them to change
// it before anything else.
func (s *Service) Login(ctx context.Context, username, password, remoteAddr, userAgent string) (*inventory.User, string, error) {
	now := s.now().UTC()
	u, err := s.store.UserByName(ctx, username)
	if errors.Is(err, inventory.ErrNotFound) {
		s.dummyVerify(password)
		return nil, "", ErrInvalidCredentials
	}
	if err != nil {
		return nil, "", err
	}
	if u.LockedUntil != nil && now.Before(*u.LockedUntil) {
		s.dummyVerify(password)
		return nil, "", ErrLocked
	}
	ok, err := VerifyPassword(u.PasswordHash, password)
	if err != nil {
		return nil, "", fmt.Errorf("users: user %q: %w", u.Username, err)
	}
	if !ok {
		return nil, "", s.loginFailed(ctx, u, now, remoteAddr)
	}
	if u.Disabled {
		return nil, "", ErrInvalidCredentials
	}
	if u.FailedLogins > 0 || u.LockedUntil != nil {
		if err := s.store.LoginSucceeded(ctx, u.ID); err != nil {
			return nil, "", err
		}
	}
	secret, err := s.openSession(ctx, u, now, remoteAddr, userAgent)
	if err != nil {
		return nil, "", err
	}
	return u, secret, s.audit(ctx, "user:"+u.Username, "user.login", u, "from "+remoteAddr)
}

// loginFailed counts a wrong password and audits it, and the lock when
// this one set it.
func (s *Service) loginFailed(ctx context.Context, u *inventory.User, now time.Time, remoteAddr string) error {
	p := s.Sessions
	after, err := s.store.LoginFailed(ctx, u.ID, now, p.MaxFailures, p.LockFor)
	if err != nil {
		return err
	}
	if err := s.audit(ctx, "user:"+u.Username, "user.login_failed", u, "from "+remoteAddr); err != nil {
		return err
	}
	if after.LockedUntil != nil && now.Before(*after.LockedUntil) {
		summary := fmt.Sprintf("%d failed sign-ins; locked until %s", p.MaxFailures, after.LockedUntil.Format(time.RFC3339))
		if err := s.audit(ctx, "certkeeper", "user.locked", u, summary); err != nil {
			return err
		}
		return ErrLocked
	}
	return ErrInvalidCredentials
}

// openSession stores a new session for u and returns its secret.
func (s *Service) openSession(ctx context.Context, u *inventory.User, now time.Time, remoteAddr, userAgent string) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("users: session secret: %w", err)
	}
	secret := SessionPrefix + base64.RawURLEncoding.EncodeToString(b)
	sess := &inventory.Session{Hash: TokenHash(secret), UserID: u.ID, CreatedAt: now, LastSeenAt: now,
		RemoteAddr: clip(remoteAddr, 64), UserAgent: clip(userAgent, 256)}
	if err := s.store.PutSession(ctx, sess); err != nil {
		return "", err
	}
	return secret, nil
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !isRuneStart(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	if len(s) > 0 {
		s = s[:len(s)-1]
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// Session returns the user and session a cookie secret names, ending (and
// deleting) sessions past the idle or absolute limit. It records the use
// to within a minute.
func (s *Service) Session(ctx context.Context, secret string) (*inventory.User, *inventory.Session, error) {
	if !strings.HasPrefix(secret, SessionPrefix) {
		return nil, nil, ErrNoSession
	}
	sess, err := s.store.SessionByHash(ctx, TokenHash(secret))
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, nil, ErrNoSession
	}
	if err != nil {
		return nil, nil, err
	}
	now := s.now().UTC()
	p := s.Sessions
	if now.Sub(sess.CreatedAt) >= p.Absolute || now.Sub(sess.LastSeenAt) >= p.Idle {
		if err := s.store.DeleteSession(ctx, sess.ID); err != nil && !errors.Is(err, inventory.ErrNotFound) {
			return nil, nil, err
		}
		return nil, nil, ErrNoSession
	}
	u, err := s.store.GetUser(ctx, sess.UserID)
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled {
		return nil, nil, ErrNoSession
	}
	if now.Sub(sess.LastSeenAt) >= sessionTouch {
		if err := s.store.TouchSession(ctx, sess.ID, now); err != nil && !errors.Is(err, inventory.ErrNotFound) {
			return nil, nil, err
		}
		sess.LastSeenAt = now
	}
	return u, sess, nil
}

// Logout ends the session a cookie secret names; an unknown one is not an
// error.
func (s *Service) Logout(ctx context.Context, secret string) error {
	u, sess, err := s.Session(ctx, secret)
	if errors.Is(err, ErrNoSession) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.store.DeleteSession(ctx, sess.ID); err != nil && !errors.Is(err, inventory.ErrNotFound) {
		return err
	}
	return s.audit(ctx, "user:"+u.Username, "user.logout", u, "")
}

// LogoutEverywhere ends every session of the user and returns how many
// there were.
func (s *Service) LogoutEverywhere(ctx context.Context, actor string, u *inventory.User) (int, error) {
	n, err := s.store.DeleteUserSessions(ctx, u.ID)
	if err != nil {
		return 0, err
	}
	return n, s.audit(ctx, actor, "user.logout_everywhere", u, strconv.Itoa(n)+" sessions ended")
}

// ChangePassword sets u's password after checking the current one, clears
// MustChangePassword and ends every other session of u (keep is the
// session to keep, 0 for none).
func (s *Service) ChangePassword(ctx context.Context, u *inventory.User, current, next string, keep int64) error {
	ok, err := VerifyPassword(u.PasswordHash, current)
	if err != nil {
		return fmt.Errorf("users: user %q: %w", u.Username, err)
	}
	if !ok {
		return invalid("current_password", errors.New("users: the current password is wrong"))
	}
	if current == next {
		return invalid("password", errors.New("users: the new password must differ from the current one"))
	}
	_, hash, err := s.newPassword(u.Username, next)
	if err != nil {
		return err
	}
	u.PasswordHash, u.MustChangePassword = hash, false
	if err := s.update(ctx, "user:"+u.Username, "user.password_change", u, ""); err != nil {
		return err
	}
	return s.endOtherSessions(ctx, u.ID, keep)
}

// endOtherSessions deletes the user's sessions but keep (0: all).
func (s *Service) endOtherSessions(ctx context.Context, userID, keep int64) error {
	var err error
	if keep == 0 {
		_, err = s.store.DeleteUserSessions(ctx, userID)
	} else {
		_, err = s.store.DeleteOtherSessions(ctx, userID, keep)
	}
	return err
}

// ExpireSessions deletes sessions past the policy's limits; the serve
// loop calls it now and then.
func (s *Service) ExpireSessions(ctx context.Context) (int, error) {
	now := s.now().UTC()
	return s.store.DeleteStaleSessions(ctx, now.Add(-s.Sessions.Absolute), now.Add(-s.Sessions.Idle))
}

// CSRFToken derives the anti-forgery token of a session from its secret:
// forms carry it and state-changing requests must send it back.
func CSRFToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("certkeeper csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether token is the session's anti-forgery token.
func CheckCSRF(secret, token string) bool {
	return hmac.Equal([]byte(CSRFToken(secret)), []byte(token))
}
