// Package mail sends certkeeper's e-mails through the SMTP server of the
// settings and records every one, sent or failed, for the Sent E-mails
// screen.
package mail

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/settings"
)

// Store is what the mailer needs from the inventory.
type Store interface {
	ListEmails(ctx context.Context, p inventory.Page) ([]inventory.Email, string, error)
	PutEmail(ctx context.Context, e *inventory.Email) error
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
}

// Config tunes the mailer.
type Config struct {
	// Roots verify the SMTP server's certificate; nil means the system
	// roots.
	Roots *x509.CertPool
	// Timeout bounds one delivery; 0 means 30 s.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Outbound carries the connection to the SMTP server under the
	// outbound policy; nil means a dialer with the built-in denials only.
	Outbound *outbound.Dialer
}

// Errors of Send and SendTest.
var (
	// ErrNotSetUp means the settings lack the SMTP server or a sender
	// address; nothing was sent or recorded.
	ErrNotSetUp = errors.New("mail: e-mail is not set up")
	// ErrFailed means the delivery was attempted and failed; the attempt
	// is recorded with status failed.
	ErrFailed = errors.New("mail: delivery failed")
)

// Service sends e-mail. It is safe for concurrent use.
type Service struct {
	store    Store
	settings *settings.Service
	cfg      Config
	log      *slog.Logger
}

// New returns the mailer; a nil log discards.
func New(st Store, s *settings.Service, cfg Config, log *slog.Logger) *Service {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Outbound == nil {
		cfg.Outbound = outbound.NewDialer(nil)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, settings: s, cfg: cfg, log: log}
}

// Send delivers one plain-text message to the recipients and records it.
// Settings without an SMTP server or sender give ErrNotSetUp and a
// recipient that is not one plain address an inventory.FieldError
// ("to"); neither is recorded. A delivery failure is recorded (the error
// text never holds the SMTP password) and returned wrapping ErrFailed,
// together with the record.
func (s *Service) Send(ctx context.Context, kind string, to []string, subject, body string) (*inventory.Email, error) {
	return s.SendWithAttachments(ctx, kind, to, subject, body, nil)
}

// Attachment is a file sent with a message.
type Attachment struct {
	// Name is the file name the recipient sees.
	Name string
	// ContentType is the MIME type; "" means application/octet-stream.
	ContentType string
	Data        []byte
}

// SendWithAttachments is Send with files attached. The record keeps the
// body and names the attachments, never their contents.
func (s *Service) SendWithAttachments(ctx context.Context, kind string, to []string, subject, body string,
	files []Attachment) (*inventory.Email, error) {
	set, err := s.settings.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := ready(set, to); err != nil {
		return nil, err
	}
	password, err := s.settings.SMTPPassword(ctx)
	if err != nil {
		return nil, err
	}
	e := &inventory.Email{Time: s.cfg.Now().UTC(), Kind: kind, From: set.Sender(), To: to,
		Subject: subject, Body: body, Status: inventory.EmailSent}
	dctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.deliver(dctx, &set.SMTP, password, e, files); err != nil {
		e.Status, e.Error = inventory.EmailFailed, redact(oneLine(err.Error()), set.SMTP.Username, password)
	}
	e.Body += attachmentNote(files)
	// The attempt is recorded even when the caller has gone away.
	if err := s.store.PutEmail(context.WithoutCancel(ctx), e); err != nil {
		return nil, fmt.Errorf("mail: record e-mail to %s: %w", strings.Join(to, ", "), err)
	}
	if e.Status == inventory.EmailFailed {
		s.log.Warn("e-mail not sent", "to", e.To, "subject", e.Subject, "status", e.Status, "err", e.Error)
		return e, fmt.Errorf("%w: to %s: %s", ErrFailed, strings.Join(to, ", "), e.Error)
	}
	s.log.Info("e-mail sent", "to", e.To, "subject", e.Subject, "status", e.Status)
	return e, nil
}

// ready checks that set can send and that every recipient is one plain
// address.
func ready(set *settings.Settings, to []string) error {
	switch {
	case set.SMTP.Host == "":
		return fmt.Errorf("%w: set the SMTP server in Settings", ErrNotSetUp)
	case set.Sender() == "":
		return fmt.Errorf("%w: set the From address or the administrator e-mail in Settings", ErrNotSetUp)
	case len(to) == 0:
		return fmt.Errorf("mail: %w", inventory.Invalid("to", "no recipient"))
	}
	for _, addr := range to {
		if err := settings.CheckAddress("to", addr); err != nil {
			return err
		}
	}
	return nil
}

// SendTest sends the test e-mail of the Settings screen to to, or to the
// admin e-mail when to is "", and audits the attempt ("email.test").
// Errors are those of Send; with no address at all it gives an
// inventory.FieldError ("to").
func (s *Service) SendTest(ctx context.Context, actor, to string) (*inventory.Email, error) {
	set, err := s.settings.Get(ctx)
	if err != nil {
		return nil, err
	}
	if to = strings.TrimSpace(to); to == "" {
		to = set.AdminEmail
	}
	if to == "" {
		return nil, fmt.Errorf("mail: %w", inventory.Invalid("to",
			"no address: give one or set the administrator e-mail in Settings"))
	}
	e, sendErr := s.Send(ctx, "test", []string{to}, "certkeeper test e-mail", testBody(set, actor, s.cfg.Now()))
	if e == nil {
		return nil, sendErr
	}
	summary := "to " + to + ": " + e.Status
	if e.Error != "" {
		summary += ": " + e.Error
	}
	err = s.store.AppendAudit(ctx, &inventory.AuditEvent{Time: s.cfg.Now().UTC(), Actor: actor,
		Action: "email.test", Object: inventory.ObjectRef(inventory.KindEmail, e.ID), Summary: summary})
	return e, errors.Join(sendErr, err)
}

func testBody(set *settings.Settings, actor string, now time.Time) string {
	instance := set.ExternalURL
	if instance == "" {
		instance = "(no external URL set in Settings)"
	}
	return fmt.Sprintf("This is a test e-mail from the certkeeper instance at %s,\n"+
		"sent at %s by %s.\n\nIf you can read it, certkeeper can send you e-mail.\n",
		instance, now.UTC().Format(time.RFC1123Z), actor)
}

// List returns one page of sent e-mails, newest first.
func (s *Service) List(ctx context.Context, p inventory.Page) ([]inventory.Email, string, error) {
	return s.store.ListEmails(ctx, p)
}

// attachmentNote lists the attached files for the record of a message.
func attachmentNote(files []Attachment) string {
	if len(files) == 0 {
		return ""
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = fmt.Sprintf("%s (%d bytes)", f.Name, len(f.Data))
	}
	return "\n[attached: " + strings.Join(names, ", ") + "]\n"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
