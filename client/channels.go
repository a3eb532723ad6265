package client

import (
	"context"
	"time"
)

// Channel is a notification channel. Its secret is never returned:
// SecretSet tells whether one is stored, and URL is cut to the scheme and
// host ("https://hooks.slack.com/…") because a webhook URL's path or
// query is often its credential.
type Channel struct {
	Name string `json:"name"`
	// Format is generic, slack, teams, pagerduty or ntfy.
	Format    string    `json:"format"`
	URL       string    `json:"url"`
	SecretSet bool      `json:"secret_set"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// ChannelInput adds a channel (admins only).
type ChannelInput struct {
	// Name is unique: letters, digits, '.', '_' and '-', at most 64.
	Name string `json:"name"`
	// Format is generic (the default), slack, teams, pagerduty or ntfy.
	Format string `json:"format,omitempty"`
	// URL is the http(s) address to post to; PagerDuty's defaults to
	// https://events.pagerduty.com/v2/enqueue.
	URL string `json:"url,omitempty"`
	// Secret is the HMAC key (generic), routing key (pagerduty, required)
	// or bearer token (ntfy); Slack and Teams take none.
	Secret string `json:"secret,omitempty"`
}

// ChannelList is every channel, by name.
type ChannelList struct {
	Items []Channel `json:"items"`
}

// Notification is one message sent, or tried, on a channel.
type Notification struct {
	ID      int64     `json:"id"`
	Time    time.Time `json:"time"`
	Channel string    `json:"channel"`
	// Kind is the notice's: firing, repeat, resolved, digest, check or
	// test; Key names what it is about across those.
	Kind    string `json:"kind"`
	Key     string `json:"key"`
	Subject string `json:"subject"`
	// Status is sent or failed, after Attempts requests; HTTPStatus is
	// the last answer's status (0: none came).
	Status     string `json:"status"`
	Attempts   int    `json:"attempts"`
	HTTPStatus int    `json:"http_status"`
	// Error lists what went wrong, attempt by attempt.
	Error string `json:"error,omitempty"`
}

// NotificationList is one page of notifications, newest first.
type NotificationList struct {
	Items []Notification `json:"items"`
	Next  string         `json:"next,omitempty"`
}

// ListChannels returns every notification channel.
func (c *Client) ListChannels(ctx context.Context) (*ChannelList, error) {
	var out ChannelList
	return &out, c.do(ctx, call{method: "GET", path: path("channels"), out: &out})
}

// AddChannel adds a notification channel (admins only).
func (c *Client) AddChannel(ctx context.Context, in ChannelInput) (*Channel, error) {
	var out Channel
	return &out, c.do(ctx, call{method: "POST", path: path("channels"), in: in, out: &out})
}

// RemoveChannel removes a notification channel (admins only); what was
// sent on it stays listed.
func (c *Client) RemoveChannel(ctx context.Context, name string) error {
	return c.do(ctx, call{method: "DELETE", path: path("channels", name)})
}

// TestChannel sends a test notification on a channel (admins only) and
// returns its record: a failed delivery is no error, its Status says so.
func (c *Client) TestChannel(ctx context.Context, name string) (*Notification, error) {
	var out Notification
	return &out, c.do(ctx, call{method: "POST", path: path("channels", name, "test"), out: &out})
}

// ListNotifications returns one page of the notifications sent or tried,
// newest first (admins only).
func (c *Client) ListNotifications(ctx context.Context, p Page) (*NotificationList, error) {
	var out NotificationList
	return &out, c.do(ctx, call{method: "GET", path: path("notifications"), query: p.values(), out: &out})
}
