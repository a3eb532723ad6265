package client

import (
	"context"
	"time"
)

// Alert is one condition of one rule on one subject, from firing to
// resolved.
type Alert struct {
	ID   int64  `json:"id"`
	Rule string `json:"rule"`
	// Subject is KIND:ID ("endpoint:12", "definition:3",
	// "acquisition:7", "deployment:9"); SubjectName how people know it.
	Subject     string `json:"subject"`
	SubjectName string `json:"subject_name"`
	// Severity is "warning" or "critical" ("info" if a rule says so).
	Severity string `json:"severity"`
	// State is "firing", "acknowledged", "silenced" or "resolved".
	State          string    `json:"state"`
	Summary        string    `json:"summary"`
	FiredAt        time.Time `json:"fired_at"`
	LastNotifiedAt time.Time `json:"last_notified_at,omitzero"`
	Notifications  int       `json:"notifications"`
	AckBy          string    `json:"ack_by,omitempty"`
	AckAt          time.Time `json:"ack_at,omitzero"`
	AckReason      string    `json:"ack_reason,omitempty"`
	SilencedBy     string    `json:"silenced_by,omitempty"`
	SilencedUntil  time.Time `json:"silenced_until,omitzero"`
	SilenceReason  string    `json:"silence_reason,omitempty"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
}

// AlertList is one page of alerts, newest first.
type AlertList struct {
	Items []Alert `json:"items"`
	Next  string  `json:"next,omitempty"`
}

// AlertQuery filters ListAlerts.
type AlertQuery struct {
	// State is "open" (every state but resolved), "firing",
	// "acknowledged", "silenced" or "resolved"; "" means any.
	State string
	Page
}

// AlertAck acknowledges an alert.
type AlertAck struct {
	Reason string `json:"reason"`
}

// AlertSilence silences an alert until Until.
type AlertSilence struct {
	Reason string    `json:"reason"`
	Until  time.Time `json:"until"`
}

// AlertRule is an alert rule as it applies now.
type AlertRule struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Thresholds says which settings mean something: "expiry" (the
	// days and fractions), "runs" or "days" (threshold), "none".
	Thresholds       string   `json:"thresholds"`
	Enabled          bool     `json:"enabled"`
	Severity         string   `json:"severity,omitempty"`
	WarnDays         int      `json:"warn_days,omitempty"`
	CriticalDays     int      `json:"critical_days,omitempty"`
	WarnFraction     float64  `json:"warn_fraction,omitempty"`
	CriticalFraction float64  `json:"critical_fraction,omitempty"`
	Threshold        int      `json:"threshold,omitempty"`
	RepeatSeconds    int64    `json:"repeat_seconds"`
	Channels         []string `json:"channels"`
	// Changed is true when an Admin's setting replaces the default.
	Changed   bool      `json:"changed"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// AlertRuleList lists every rule.
type AlertRuleList struct {
	Items []AlertRule `json:"items"`
}

// AlertRuleChange changes a rule; nil fields are left alone. Reset puts
// the rule back to its default first.
type AlertRuleChange struct {
	Enabled          *bool     `json:"enabled,omitempty"`
	Severity         *string   `json:"severity,omitempty"`
	WarnDays         *int      `json:"warn_days,omitempty"`
	CriticalDays     *int      `json:"critical_days,omitempty"`
	WarnFraction     *float64  `json:"warn_fraction,omitempty"`
	CriticalFraction *float64  `json:"critical_fraction,omitempty"`
	Threshold        *int      `json:"threshold,omitempty"`
	RepeatSeconds    *int64    `json:"repeat_seconds,omitempty"`
	Channels         *[]string `json:"channels,omitempty"`
	Reset            bool      `json:"reset,omitempty"`
}

// AlertRoutes map labels to the channels their alerts go to.
type AlertRoutes struct {
	Routes map[string][]string `json:"routes"`
}

// ListAlerts returns one page of the alerts q selects.
func (c *Client) ListAlerts(ctx context.Context, q AlertQuery) (*AlertList, error) {
	v := q.Page.values()
	setNonZero(v, "state", q.State)
	var out AlertList
	return &out, c.do(ctx, call{method: "GET", path: path("alerts"), query: v, out: &out})
}

// GetAlert returns one alert.
func (c *Client) GetAlert(ctx context.Context, id int64) (*Alert, error) {
	var out Alert
	return &out, c.do(ctx, call{method: "GET", path: path("alerts", id), out: &out})
}

// AcknowledgeAlert acknowledges alert id with a reason.
func (c *Client) AcknowledgeAlert(ctx context.Context, id int64, reason string) (*Alert, error) {
	var out Alert
	return &out, c.do(ctx, call{method: "POST", path: path("alerts", id, "acknowledge"), in: AlertAck{Reason: reason}, out: &out})
}

// SilenceAlert silences alert id until until, with a reason (admins
// only).
func (c *Client) SilenceAlert(ctx context.Context, id int64, reason string, until time.Time) (*Alert, error) {
	var out Alert
	return &out, c.do(ctx, call{method: "POST", path: path("alerts", id, "silence"),
		in: AlertSilence{Reason: reason, Until: until}, out: &out})
}

// ListAlertRules returns every alert rule.
func (c *Client) ListAlertRules(ctx context.Context) (*AlertRuleList, error) {
	var out AlertRuleList
	return &out, c.do(ctx, call{method: "GET", path: path("alert-rules"), out: &out})
}

// UpdateAlertRule changes rule name (admins only).
func (c *Client) UpdateAlertRule(ctx context.Context, name string, ch AlertRuleChange) (*AlertRule, error) {
	var out AlertRule
	return &out, c.do(ctx, call{method: "PUT", path: path("alert-rules", name), in: ch, out: &out})
}

// GetAlertRoutes returns the label routing of alerts.
func (c *Client) GetAlertRoutes(ctx context.Context) (*AlertRoutes, error) {
	var out AlertRoutes
	return &out, c.do(ctx, call{method: "GET", path: path("alert-routes"), out: &out})
}

// SetAlertRoutes replaces the label routing of alerts (admins only).
func (c *Client) SetAlertRoutes(ctx context.Context, r AlertRoutes) (*AlertRoutes, error) {
	var out AlertRoutes
	return &out, c.do(ctx, call{method: "PUT", path: path("alert-routes"), in: r, out: &out})
}
