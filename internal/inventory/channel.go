package inventory

import (
	"context"
	"time"
)

// Channel formats: how a channel's messages are shaped for the service
// that receives them.
const (
	FormatGeneric   = "generic"
	FormatSlack     = "slack"
	FormatTeams     = "teams"
	FormatPagerDuty = "pagerduty"
	FormatNtfy      = "ntfy"
)

// ChannelFormats lists every channel format.
var ChannelFormats = []string{FormatGeneric, FormatSlack, FormatTeams, FormatPagerDuty, FormatNtfy}

// Channel is a place notices are sent to over HTTP: a webhook, a chat
// service, PagerDuty or ntfy.
type Channel struct {
	ID int64
	// Name is unique.
	Name string
	// Format is one of ChannelFormats.
	Format string
	// URL is the http(s) address messages are posted to. It may hold a
	// token (Slack and Teams webhook URLs do): it is shown to admins only
	// and never logged.
	URL string
	// SealedSecret is the secret sealed with the master key (the HMAC key
	// of a generic webhook, PagerDuty's routing key, ntfy's token); nil
	// when none.
	SealedSecret []byte
	CreatedAt    time.Time
	CreatedBy    string
}

// Notification statuses.
const (
	NotificationSent   = "sent"
	NotificationFailed = "failed"
)

// Notification is one message sent, or tried, on a channel.
type Notification struct {
	ID      int64
	Time    time.Time
	Channel string
	// Kind and Key are those of the notice.
	Kind    string
	Key     string
	Subject string
	// Status is NotificationSent or NotificationFailed.
	Status string
	// Attempts is how many requests were made; HTTPStatus the status of
	// the last response (0 when none came).
	Attempts   int
	HTTPStatus int
	// Error says why the message failed; it never holds the channel's
	// secret or URL query.
	Error string
}

// ChannelStore keeps notification channels and the record of what was
// sent on them.
type ChannelStore interface {
	// PutChannel stores a new channel and sets its ID (and CreatedAt when
	// zero); a name in use gives ErrConflict.
	PutChannel(ctx context.Context, c *Channel) error
	// ChannelByName returns the channel of that name or ErrNotFound.
	ChannelByName(ctx context.Context, name string) (*Channel, error)
	// ListChannels returns every channel, by name.
	ListChannels(ctx context.Context) ([]Channel, error)
	// DeleteChannel removes the channel of that name (its notifications
	// are kept); an unknown name gives ErrNotFound.
	DeleteChannel(ctx context.Context, name string) error
	// RewrapChannelSecrets replaces every non-empty SealedSecret with
	// what rewrap makes of it, in one transaction, and returns how many.
	RewrapChannelSecrets(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) (int, error)
	// PutNotification stores n and sets its ID (and Time when zero).
	PutNotification(ctx context.Context, n *Notification) error
	// ListNotifications returns one page of notifications, newest first.
	ListNotifications(ctx context.Context, p Page) ([]Notification, string, error)
}
