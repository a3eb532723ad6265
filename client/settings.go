package client

import (
	"context"
	"time"
)

// Settings are the instance settings. The SMTP password is never
// returned; SMTPPasswordSet tells whether one is stored.
type Settings struct {
	// AdminEmail receives alerts and, by default, test e-mails.
	AdminEmail string `json:"admin_email"`
	// ExternalURL is how users reach certkeeper, used in e-mails.
	ExternalURL string `json:"external_url"`
	// SMTPHost is the mail server as host:port; "" means e-mail is not
	// set up.
	SMTPHost string `json:"smtp_host"`
	// SMTPSecurity is starttls (required, the default), tls (implicit)
	// or none.
	SMTPSecurity string `json:"smtp_security"`
	SMTPUsername string `json:"smtp_username"`
	// SMTPFrom is the sender address; "" means AdminEmail.
	SMTPFrom        string `json:"smtp_from"`
	SMTPPasswordSet bool   `json:"smtp_password_set"`
	// MonitorTime is when endpoints checked daily are due, "HH:MM" UTC.
	MonitorTime string `json:"monitor_time"`
	// MonitorRetentionDays is how long monitoring results are kept.
	MonitorRetentionDays int `json:"monitor_retention_days"`
	// MonitorConcurrency bounds the endpoints checked at once.
	MonitorConcurrency int `json:"monitor_concurrency"`
	// DigestTime is when the daily digest is due, "HH:MM" UTC.
	DigestTime string `json:"digest_time"`
	// DigestAlways sends the digest even when nothing needs action.
	DigestAlways bool `json:"digest_always"`
	// DigestChannels are the notification channels that also receive
	// the digest (the admin e-mail always does when set).
	DigestChannels []string `json:"digest_channels"`
}

// SettingsUpdate changes settings: a nil field keeps the stored value,
// anything else replaces it. SMTPPassword "" removes the stored password;
// SMTPSecurity "" means starttls.
type SettingsUpdate struct {
	AdminEmail   *string `json:"admin_email,omitempty"`
	ExternalURL  *string `json:"external_url,omitempty"`
	SMTPHost     *string `json:"smtp_host,omitempty"`
	SMTPSecurity *string `json:"smtp_security,omitempty"`
	SMTPUsername *string `json:"smtp_username,omitempty"`
	SMTPFrom     *string `json:"smtp_from,omitempty"`
	SMTPPassword *string `json:"smtp_password,omitempty"`
	// MonitorTime "" and the numbers 0 restore the defaults (06:00, 90
	// days, 50).
	MonitorTime          *string `json:"monitor_time,omitempty"`
	MonitorRetentionDays *int    `json:"monitor_retention_days,omitempty"`
	MonitorConcurrency   *int    `json:"monitor_concurrency,omitempty"`
	// DigestTime "" restores the default (07:00); DigestChannels replaces
	// the list (an empty list: none).
	DigestTime     *string   `json:"digest_time,omitempty"`
	DigestAlways   *bool     `json:"digest_always,omitempty"`
	DigestChannels *[]string `json:"digest_channels,omitempty"`
}

// TestEmail asks for the test e-mail.
type TestEmail struct {
	// To is the recipient; "" means the administrator e-mail.
	To string `json:"to,omitempty"`
}

// Email is an e-mail certkeeper sent or tried to send.
type Email struct {
	ID   int64     `json:"id"`
	Time time.Time `json:"time"`
	// Kind says why it was sent: test, alert or digest.
	Kind    string   `json:"kind"`
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Body    string   `json:"body"`
	// Status is sent or failed; Error says why it failed.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// EmailList is one page of e-mails, newest first.
type EmailList struct {
	Items []Email `json:"items"`
	Next  string  `json:"next,omitempty"`
}

// AllowList is the IP allow-list of the web UI and API.
type AllowList struct {
	// Prefixes are CIDR prefixes ("10.0.0.0/8") or addresses.
	Prefixes []string `json:"prefixes"`
	// Caller is the caller's address as the server sees it (read only):
	// a new list must allow it.
	Caller string `json:"caller,omitempty"`
}

// GetSettings returns the settings (admins only).
func (c *Client) GetSettings(ctx context.Context) (*Settings, error) {
	var out Settings
	return &out, c.do(ctx, call{method: "GET", path: path("settings"), out: &out})
}

// UpdateSettings changes the fields u sets and returns the settings.
func (c *Client) UpdateSettings(ctx context.Context, u SettingsUpdate) (*Settings, error) {
	var out Settings
	return &out, c.do(ctx, call{method: "PUT", path: path("settings"), in: u, out: &out})
}

// SendTestEmail sends the test e-mail and returns its record. A failed
// delivery is a 502 error whose detail says why; it is recorded all the
// same (see ListEmails). E-mail that is not set up is a 409 error.
func (c *Client) SendTestEmail(ctx context.Context, t TestEmail) (*Email, error) {
	var out Email
	return &out, c.do(ctx, call{method: "POST", path: path("settings", "test-email"), in: t, out: &out})
}

// ListEmails returns one page of sent and failed e-mails, newest first.
func (c *Client) ListEmails(ctx context.Context, p Page) (*EmailList, error) {
	var out EmailList
	return &out, c.do(ctx, call{method: "GET", path: path("emails"), query: p.values(), out: &out})
}

// GetAllowList returns the IP allow-list and the caller's address.
func (c *Client) GetAllowList(ctx context.Context) (*AllowList, error) {
	var out AllowList
	return &out, c.do(ctx, call{method: "GET", path: path("allowlist"), out: &out})
}

// UpdateAllowList replaces the IP allow-list with l.Prefixes. A list that
// does not allow the caller's own address is refused (422).
func (c *Client) UpdateAllowList(ctx context.Context, l AllowList) (*AllowList, error) {
	var out AllowList
	return &out, c.do(ctx, call{method: "PUT", path: path("allowlist"), in: AllowList{Prefixes: l.Prefixes}, out: &out})
}
