package inventory

import (
	"context"
	"time"
)

// Session is a signed-in browser of the web UI. The cookie holds a random
// secret; only its SHA-256 is stored, so a copy of the database signs
// nobody in.
type Session struct {
	ID int64
	// Hash is the lowercase hex SHA-256 of the cookie secret; unique.
	Hash   string
	UserID int64
	// CreatedAt bounds the absolute lifetime, LastSeenAt the idle one.
	CreatedAt  time.Time
	LastSeenAt time.Time
	// RemoteAddr and UserAgent are what the browser signed in from, for
	// the user's list of sessions.
	RemoteAddr string
	UserAgent  string
	// Gen is the user's CredentialGen at sign-in; the session works only
	// while they are equal.
	Gen int64
}

// SessionStore keeps web UI sessions.
type SessionStore interface {
	// PutSession stores a new session and sets s.ID. A hash in use gives
	// ErrConflict; an unknown user ErrNotFound.
	PutSession(ctx context.Context, s *Session) error
	// SessionByHash finds a session; none gives ErrNotFound.
	SessionByHash(ctx context.Context, hash string) (*Session, error)
	// TouchSession sets LastSeenAt; an unknown ID gives ErrNotFound.
	TouchSession(ctx context.Context, id int64, at time.Time) error
	// DeleteSession removes one session; an unknown ID gives ErrNotFound.
	DeleteSession(ctx context.Context, id int64) error
	// DeleteUserSessions removes every session of the user (sign out
	// everywhere) and returns how many there were.
	DeleteUserSessions(ctx context.Context, userID int64) (int, error)
	// DeleteOtherSessions removes every session of the user but keep
	// (after a password change) and returns how many.
	DeleteOtherSessions(ctx context.Context, userID, keep int64) (int, error)
	// DeleteStaleSessions removes sessions created before createdBefore
	// or last seen before seenBefore, and returns how many.
	DeleteStaleSessions(ctx context.Context, createdBefore, seenBefore time.Time) (int, error)
}

// SettingsStore keeps the instance's settings as named JSON documents
// (package settings defines the names and shapes).
type SettingsStore interface {
	// GetSetting returns the stored value of name; none gives ErrNotFound.
	GetSetting(ctx context.Context, name string) ([]byte, error)
	// PutSetting stores value under name, replacing any earlier value.
	PutSetting(ctx context.Context, name string, value []byte) error
}

// Email states.
const (
	EmailSent   = "sent"
	EmailFailed = "failed"
)

// Email is one e-mail certkeeper sent or tried to send, kept for the Sent
// E-mails screen.
type Email struct {
	ID   int64
	Time time.Time
	// Kind says why it was sent: "test", "alert", "digest".
	Kind    string
	From    string
	To      []string
	Subject string
	// Body is the plain-text body.
	Body string
	// Status is EmailSent or EmailFailed; Error is the failure, if any,
	// and never holds the SMTP password.
	Status string
	Error  string
}

// EmailStore keeps the record of sent e-mails.
type EmailStore interface {
	// PutEmail stores e and sets its ID (and Time when zero).
	PutEmail(ctx context.Context, e *Email) error
	// ListEmails returns one page of e-mails, newest first.
	ListEmails(ctx context.Context, p Page) ([]Email, string, error)
}
