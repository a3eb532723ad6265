package inventory

import (
	"context"
	"time"
)

// AlertState is where an alert stands.
//
//	firing ──acknowledge──> acknowledged
//	   │  └──silence──────> silenced ──until passes──> firing
//	   └──condition ends (from any open state)──> resolved
type AlertState string

// Alert states. Every state but resolved is open.
const (
	AlertFiring       AlertState = "firing"
	AlertAcknowledged AlertState = "acknowledged"
	AlertSilenced     AlertState = "silenced"
	AlertResolved     AlertState = "resolved"
)

// Valid reports whether s is a known state.
func (s AlertState) Valid() bool {
	switch s {
	case AlertFiring, AlertAcknowledged, AlertSilenced, AlertResolved:
		return true
	}
	return false
}

// Open reports whether the alert is not resolved.
func (s AlertState) Open() bool { return s != AlertResolved }

// Alert is one condition of one rule on one subject, from the moment it
// fired until it resolved. At most one alert per rule and subject is open.
type Alert struct {
	ID int64
	// Rule names the alert rule ("leaf-expiry", "endpoint-unreachable").
	Rule string
	// Subject is what the alert is about as KIND:ID ("endpoint:12",
	// "definition:3", "acquisition:7", "deployment:9"); SubjectName is
	// how people know it (an address, a definition's name).
	Subject     string
	SubjectName string
	// Severity is SeverityWarning or SeverityCritical.
	Severity string
	State    AlertState
	// Summary says in one line what is wrong now.
	Summary string
	FiredAt time.Time
	// LastNotifiedAt is when the last notice went out (the firing one
	// first); Notifications counts them.
	LastNotifiedAt time.Time
	Notifications  int
	// AckBy, AckAt and AckReason are set by an acknowledgement.
	AckBy     string
	AckAt     time.Time
	AckReason string
	// SilencedBy, SilencedUntil and SilenceReason are set by a silence.
	SilencedBy    string
	SilencedUntil time.Time
	SilenceReason string
	// ResolvedAt is zero while the alert is open.
	ResolvedAt time.Time
}

// AlertRule is an Admin's setting of one alert rule, stored over the
// rule's built-in default (package alert has the defaults and says what
// each field means for each rule).
type AlertRule struct {
	Name    string
	Enabled bool
	// Severity is the severity of a rule with one level; rules with
	// thresholds take it from the threshold crossed.
	Severity string
	// WarnDays, CriticalDays, WarnFraction and CriticalFraction are the
	// expiry thresholds; Threshold the runs in a row or the days a rule
	// counts.
	WarnDays         int
	CriticalDays     int
	WarnFraction     float64
	CriticalFraction float64
	Threshold        int
	// Repeat is the time between repeated notices of an alert that is
	// neither acknowledged nor silenced; 0 means never repeat.
	Repeat time.Duration
	// Channels are the channels the rule's notices go to, besides the
	// e-mail routing.
	Channels  []string
	UpdatedBy string
	UpdatedAt time.Time
}

// AlertFilter selects alerts. The zero value selects all.
type AlertFilter struct {
	// States keeps alerts in one of these states; empty means any.
	States []AlertState
}

// AlertStore is the part of the Store contract that keeps alerts and
// the Admin's settings of alert rules.
type AlertStore interface {
	// ListAlertRules returns the stored rule settings by name.
	ListAlertRules(ctx context.Context) ([]AlertRule, error)
	// PutAlertRule stores r (replacing the stored setting of r.Name) and
	// appends audit, in one transaction.
	PutAlertRule(ctx context.Context, r *AlertRule, audit *AuditEvent) error
	// PutAlert stores a new alert and sets a.ID. An open alert for the
	// same rule and subject gives ErrConflict.
	PutAlert(ctx context.Context, a *Alert) error
	// UpdateAlert writes every field of a but ID, Rule and Subject, and
	// appends audit unless it is nil, in one transaction. An unknown ID
	// gives ErrNotFound.
	UpdateAlert(ctx context.Context, a *Alert, audit *AuditEvent) error
	// GetAlert returns one alert; an unknown ID gives ErrNotFound.
	GetAlert(ctx context.Context, id int64) (*Alert, error)
	// OpenAlerts returns every alert that is not resolved, by ID.
	OpenAlerts(ctx context.Context) ([]Alert, error)
	// ListAlerts returns one page of the alerts f selects, newest first,
	// and the cursor of the next page ("" on the last).
	ListAlerts(ctx context.Context, f AlertFilter, p Page) ([]Alert, string, error)
	// CountAlertsByRule counts the alerts in state by rule.
	CountAlertsByRule(ctx context.Context, state AlertState) (map[string]int, error)
}
