// Package notify carries notices (inventory.Notice) to people: HTTP
// channels (a signed generic JSON webhook, Slack, Microsoft Teams,
// PagerDuty Events v2 and ntfy) and e-mail through package mail. Every
// message sent or tried on a channel is recorded; every e-mail is in the
// Sent E-mails record. Channel secrets are sealed with the master key and
// never leave the service. See docs/notifications.md.
package notify

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/outbound"
)

// Store is what the service needs from the inventory.
type Store interface {
	ChannelByName(ctx context.Context, name string) (*inventory.Channel, error)
	ListChannels(ctx context.Context) ([]inventory.Channel, error)
	RewrapChannelSecrets(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) (int, error)
	PutNotification(ctx context.Context, n *inventory.Notification) error
	ListNotifications(ctx context.Context, p inventory.Page) ([]inventory.Notification, string, error)
	// InTx runs fn in one transaction: a change and its audit event are
	// stored together or not at all.
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// Mailer sends one plain-text e-mail and records it; *mail.Service is
// one.
type Mailer interface {
	Send(ctx context.Context, kind string, to []string, subject, body string) (*inventory.Email, error)
}

// Options tune a Service. The zero value works (without e-mail).
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives what is sent (never a URL or secret); nil discards.
	Log *slog.Logger
	// Outbound carries every request under the outbound policy; nil
	// means a dialer with the built-in denials only.
	Outbound *outbound.Dialer
	// Mail sends the notices' e-mails; nil means they fail as not set up.
	Mail Mailer
	// Timeout bounds one request; 0 means 10 seconds.
	Timeout time.Duration
	// Backoff is the wait before the second attempt, doubled before the
	// third; 0 means 2 seconds.
	Backoff time.Duration
}

// Errors of the service.
var (
	// ErrForbidden refuses a change or test by a caller who is not an
	// admin.
	ErrForbidden = errors.New("notify: only an admin may add, remove or test notification channels")
	// ErrFailed means a notice did not reach every channel or address;
	// each failure is recorded.
	ErrFailed = errors.New("notify: delivery failed")
	// ErrNoMail means a notice names e-mail addresses but the service
	// has no mailer.
	ErrNoMail = errors.New("notify: e-mail is not set up")
)

// Service keeps the notification channels and sends notices. It is safe
// for concurrent use.
type Service struct {
	store  Store
	sealer *keys.Sealer
	o      Options
	client *http.Client
}

// New returns the service over st; channel secrets are sealed with
// sealer.
func New(st Store, sealer *keys.Sealer, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Outbound == nil {
		o.Outbound = outbound.NewDialer(nil)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	c := o.Outbound.HTTPClient(maxResponse)
	// A redirect is a failure: the signature, routing key or token is
	// for the URL the admin gave, and nowhere else.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Service{store: st, sealer: sealer, o: o, client: c}
}

func (s *Service) now() time.Time { return s.o.Now().UTC() }

// Rewrap re-encrypts every channel secret with rewrap (master-key
// rotation).
func (s *Service) Rewrap(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) error {
	_, err := s.store.RewrapChannelSecrets(ctx, rewrap)
	return err
}
