package users

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
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
	// PerName slows down failures of one username from one address,
	// PerAddress failures of all usernames together from one address.
	// Neither touches another address: nobody can lock a user out.
	PerName    Backoff
	PerAddress Backoff
	// Forget is how long failures are remembered after the last one.
	Forget time.Duration
}

// DefaultSessionPolicy: 30 minutes idle, 12 hours at most; from one
// address, five wrong passwords for a name (twenty for all names
// together) are free, then each further attempt waits 1 s, 2 s, 4 s ...
// up to 15 minutes; failures are forgotten a day after the last one.
var DefaultSessionPolicy = SessionPolicy{Idle: 30 * time.Minute, Absolute: 12 * time.Hour,
	PerName:    Backoff{Free: 5, Base: time.Second, Max: 15 * time.Minute},
	PerAddress: Backoff{Free: 20, Base: time.Second, Max: 15 * time.Minute},
	Forget:     24 * time.Hour}

// ErrNoSession means the cookie names no live session: unknown, signed
// out, idle or too old, ended with its user's credentials, or its user is
// disabled.
var ErrNoSession = errors.New("users: not signed in, or the session has ended")

// SessionPrefix starts every session secret.
const SessionPrefix = "cks_"

// sessionTouch is how stale a session's LastSeenAt may get before a
// request writes it.
const sessionTouch = time.Minute

// Login checks the password and opens a session, returning the user and
// the session secret for the cookie. While recent failures from
// remoteAddr are being backed off it refuses with a *BackoffError before
// looking at the password; an unknown user, a wrong password and a
// disabled user all give ErrInvalidCredentials after the same hashing
// work, and count as a failure; ErrBusy when no hashing slot came free. A
// user with MustChangePassword set still signs in: the caller sends them
// to change it before anything else.
func (s *Service) Login(ctx context.Context, username, password, remoteAddr, userAgent string) (*inventory.User, string, error) {
	now := s.now().UTC()
	key := newSignInKey(username, remoteAddr)
	if err := s.checkBackoff(ctx, key, now); err != nil {
		return nil, "", err
	}
	u, ok, err := s.checkPassword(ctx, username, password)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		// Counted from when the answer goes out, after the hashing.
		return nil, "", s.loginFailed(ctx, key, u, s.now().UTC(), remoteAddr)
	}
	var secret string
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.ClearSignInFailure(ctx, key.name, key.addr); err != nil {
			return err
		}
		var err error
		if secret, err = s.openSession(ctx, tx, u, now, remoteAddr, userAgent); err != nil {
			return err
		}
		return s.audit(ctx, tx, "user:"+u.Username, "user.login", u, "from "+remoteAddr)
	})
	if err != nil {
		return nil, "", err
	}
	return u, secret, nil
}

// checkPassword returns the user named username (nil when unknown) and
// whether password is theirs and they may sign in. An unknown name costs
// the same hashing as a known one.
func (s *Service) checkPassword(ctx context.Context, username, password string) (*inventory.User, bool, error) {
	u, err := s.store.UserByName(ctx, username)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, false, s.dummyVerify(ctx, password)
	}
	if err != nil {
		return nil, false, err
	}
	ok, err := s.verify(ctx, u, password)
	return u, ok && !u.Disabled, err
}

// loginFailed counts a failed sign-in and audits it when the user exists
// (an unknown name is not written down: it may be a password typed in
// the wrong field). It returns ErrInvalidCredentials.
func (s *Service) loginFailed(ctx context.Context, key signInKey, u *inventory.User, now time.Time, remoteAddr string) error {
	if err := s.countFailure(ctx, key, now); err != nil {
		return err
	}
	if u != nil {
		if err := s.audit(ctx, s.store, "user:"+u.Username, "user.login_failed", u, "from "+remoteAddr); err != nil {
			return err
		}
	}
	return ErrInvalidCredentials
}

// openSession stores a new session for u through st and returns its
// secret.
func (s *Service) openSession(ctx context.Context, st inventory.SessionStore, u *inventory.User, now time.Time, remoteAddr, userAgent string) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("users: session secret: %w", err)
	}
	secret := SessionPrefix + base64.RawURLEncoding.EncodeToString(b)
	sess := &inventory.Session{Hash: TokenHash(secret), UserID: u.ID, CreatedAt: now, LastSeenAt: now,
		RemoteAddr: clip(remoteAddr, 64), UserAgent: clip(userAgent, 256), Gen: u.CredentialGen}
	if err := st.PutSession(ctx, sess); err != nil {
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
	if u.Disabled || sess.Gen != u.CredentialGen {
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
	return s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.DeleteSession(ctx, sess.ID); err != nil && !errors.Is(err, inventory.ErrNotFound) {
			return err
		}
		return s.audit(ctx, tx, "user:"+u.Username, "user.logout", u, "")
	})
}

// LogoutEverywhere ends every session and every API token of the user
// and returns how many sessions there were.
func (s *Service) LogoutEverywhere(ctx context.Context, actor string, u *inventory.User) (int, error) {
	u, err := s.store.GetUser(ctx, u.ID)
	if err != nil {
		return 0, err
	}
	var sessions int
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		n, tokens, err := s.endCredentials(ctx, tx, u)
		if err != nil {
			return err
		}
		sessions = n
		return s.audit(ctx, tx, actor, "user.logout_everywhere", u,
			fmt.Sprintf("%d sessions and %d API tokens ended", n, tokens))
	})
	if err != nil {
		return 0, err
	}
	return sessions, nil
}

// ChangePassword sets u's password after checking the current one, clears
// MustChangePassword and ends every other session of u (keep is the
// session to keep, 0 for none).
func (s *Service) ChangePassword(ctx context.Context, u *inventory.User, current, next string, keep int64) error {
	ok, err := s.verify(ctx, u, current)
	if err != nil {
		return err
	}
	if !ok {
		return invalid("current_password", errors.New("users: the current password is wrong"))
	}
	if current == next {
		return invalid("password", errors.New("users: the new password must differ from the current one"))
	}
	_, hash, err := s.newPassword(ctx, u.Username, next)
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

// ExpireSessions deletes sessions past the policy's limits, and sign-in
// failures older than Forget, and returns how many sessions it deleted;
// the serve loop calls it now and then.
func (s *Service) ExpireSessions(ctx context.Context) (int, error) {
	now := s.now().UTC()
	n, err := s.store.DeleteStaleSessions(ctx, now.Add(-s.Sessions.Absolute), now.Add(-s.Sessions.Idle))
	if err != nil {
		return 0, err
	}
	_, err = s.store.ForgetSignInFailures(ctx, now.Add(-s.Sessions.Forget))
	return n, err
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
