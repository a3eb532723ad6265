package alert

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Rule names.
const (
	RuleLeafExpiry           = "leaf-expiry"
	RuleChainExpiry          = "chain-expiry"
	RuleNotExpected          = "not-expected"
	RuleIntermediatesMissing = "intermediates-missing"
	RuleRevoked              = "revoked"
	RuleUntrusted            = "untrusted"
	RuleNameMismatch         = "name-mismatch"
	RuleUnreachable          = "endpoint-unreachable"
	RuleNotYetValid          = "not-yet-valid"
	RuleRenewalOverdue       = "renewal-overdue"
	RuleAcquisitionStuck     = "acquisition-stuck"
	RuleDeploymentStuck      = "deployment-stuck"
)

// Threshold kinds: which fields of a rule mean something.
const (
	// ThresholdExpiry rules use WarnDays, CriticalDays, WarnFraction and
	// CriticalFraction; Severity is not used.
	ThresholdExpiry = "expiry"
	// ThresholdRuns rules fire after Threshold runs in a row.
	ThresholdRuns = "runs"
	// ThresholdDays rules fire after Threshold days.
	ThresholdDays = "days"
	// ThresholdNone rules fire as soon as the condition holds.
	ThresholdNone = "none"
)

const day = 24 * time.Hour

// Rule is an alert rule as it applies now: the built-in default, or the
// Admin's setting of it.
type Rule struct {
	inventory.AlertRule
	// Title says in a few words what the rule watches.
	Title string
	// Thresholds is one of the Threshold* kinds.
	Thresholds string
	// Changed is set when an Admin's setting replaces the default.
	Changed bool
}

type ruleDefault struct {
	inventory.AlertRule
	title, thresholds string
}

// defaults are the built-in rules, in the order lists show them.
var defaults = []ruleDefault{
	{inventory.AlertRule{Name: RuleLeafExpiry, Enabled: true, WarnDays: 30, CriticalDays: 7, WarnFraction: 1.0 / 3,
		CriticalFraction: 0.1, Repeat: day}, "served certificate expires soon", ThresholdExpiry},
	{inventory.AlertRule{Name: RuleChainExpiry, Enabled: true, WarnDays: 30, CriticalDays: 7, Repeat: day},
		"served intermediate or root expires before the certificate", ThresholdExpiry},
	{inventory.AlertRule{Name: RuleNotExpected, Enabled: true, Severity: inventory.SeverityCritical, Repeat: day},
		"served certificate is not the expected one", ThresholdNone},
	{inventory.AlertRule{Name: RuleIntermediatesMissing, Enabled: true, Severity: inventory.SeverityWarning, Repeat: day},
		"intermediates not served", ThresholdNone},
	{inventory.AlertRule{Name: RuleRevoked, Enabled: true, Severity: inventory.SeverityCritical, Repeat: day},
		"served certificate revoked", ThresholdNone},
	{inventory.AlertRule{Name: RuleUntrusted, Enabled: true, Severity: inventory.SeverityCritical, Repeat: day},
		"served chain does not verify", ThresholdNone},
	{inventory.AlertRule{Name: RuleNameMismatch, Enabled: true, Severity: inventory.SeverityCritical, Repeat: day},
		"served certificate does not name the server", ThresholdNone},
	{inventory.AlertRule{Name: RuleUnreachable, Enabled: true, Severity: inventory.SeverityCritical, Threshold: 3, Repeat: day},
		"endpoint unreachable", ThresholdRuns},
	{inventory.AlertRule{Name: RuleNotYetValid, Enabled: true, Severity: inventory.SeverityWarning, Repeat: day},
		"served certificate not yet valid", ThresholdNone},
	{inventory.AlertRule{Name: RuleRenewalOverdue, Enabled: true, Severity: inventory.SeverityWarning, Repeat: day},
		"renewal due and none under way", ThresholdNone},
	{inventory.AlertRule{Name: RuleAcquisitionStuck, Enabled: true, Severity: inventory.SeverityWarning, Threshold: 14, Repeat: 7 * day},
		"acquisition process not moving", ThresholdDays},
	{inventory.AlertRule{Name: RuleDeploymentStuck, Enabled: true, Severity: inventory.SeverityWarning, Threshold: 7, Repeat: 7 * day},
		"deployment process not moving", ThresholdDays},
}

func defaultOf(name string) (ruleDefault, bool) {
	i := slices.IndexFunc(defaults, func(d ruleDefault) bool { return d.Name == name })
	if i < 0 {
		return ruleDefault{}, false
	}
	return defaults[i], true
}

// Rules returns every rule as it applies now, in a fixed order.
func (s *Service) Rules(ctx context.Context) ([]Rule, error) {
	stored, err := s.store.ListAlertRules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Rule, 0, len(defaults))
	for _, d := range defaults {
		r := Rule{AlertRule: d.AlertRule, Title: d.title, Thresholds: d.thresholds}
		if i := slices.IndexFunc(stored, func(st inventory.AlertRule) bool { return st.Name == d.Name }); i >= 0 {
			r.AlertRule, r.Changed = stored[i], true
		}
		out = append(out, r)
	}
	return out, nil
}

// RuleChange is an Admin's change to a rule; nil fields are left alone.
type RuleChange struct {
	Enabled          *bool
	Severity         *string
	WarnDays         *int
	CriticalDays     *int
	WarnFraction     *float64
	CriticalFraction *float64
	Threshold        *int
	Repeat           *time.Duration
	Channels         *[]string
	// Reset puts the rule back to its default before the other fields
	// apply.
	Reset bool
}

// UpdateRule changes rule name as ch says, by an Admin, audited in the
// same transaction. Bad values give an inventory.FieldError and change
// nothing.
func (s *Service) UpdateRule(ctx context.Context, by ca.Requester, name string, ch RuleChange) (*Rule, error) {
	if by.Role != inventory.RoleAdmin {
		return nil, forbidden("only an admin may change alert rules")
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(rules, func(r Rule) bool { return r.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("alert: rule %q: %w", name, inventory.ErrNotFound)
	}
	r := rules[i]
	if ch.Reset {
		d, _ := defaultOf(name)
		r.AlertRule = d.AlertRule
	}
	changed := apply(&r.AlertRule, ch)
	if err := validRule(&r); err != nil {
		return nil, err
	}
	r.UpdatedBy, r.UpdatedAt, r.Changed = by.Name, s.now().UTC().Truncate(time.Second), true
	audit := &inventory.AuditEvent{Time: r.UpdatedAt, Actor: by.Name, Action: "alert.rule",
		Object: inventory.ObjectName(inventory.KindAlertRule, name), Summary: describeChange(changed, ch.Reset)}
	if err := s.store.InTx(ctx, func(tx inventory.Store) error { return tx.PutAlertRule(ctx, &r.AlertRule, audit) }); err != nil {
		return nil, err
	}
	return &r, nil
}

// apply sets the fields ch gives and returns their API names.
func apply(r *inventory.AlertRule, ch RuleChange) []string {
	var changed []string
	set := func(name string, ok bool, f func()) {
		if ok {
			f()
			changed = append(changed, name)
		}
	}
	set("enabled", ch.Enabled != nil, func() { r.Enabled = *ch.Enabled })
	set("severity", ch.Severity != nil, func() { r.Severity = *ch.Severity })
	set("warn_days", ch.WarnDays != nil, func() { r.WarnDays = *ch.WarnDays })
	set("critical_days", ch.CriticalDays != nil, func() { r.CriticalDays = *ch.CriticalDays })
	set("warn_fraction", ch.WarnFraction != nil, func() { r.WarnFraction = *ch.WarnFraction })
	set("critical_fraction", ch.CriticalFraction != nil, func() { r.CriticalFraction = *ch.CriticalFraction })
	set("threshold", ch.Threshold != nil, func() { r.Threshold = *ch.Threshold })
	set("repeat", ch.Repeat != nil, func() { r.Repeat = *ch.Repeat })
	set("channels", ch.Channels != nil, func() { r.Channels = normalChannels(*ch.Channels) })
	return changed
}

func describeChange(changed []string, reset bool) string {
	s := "changed " + strings.Join(changed, ", ")
	switch {
	case reset && len(changed) == 0:
		return "reset to default"
	case reset:
		return "reset to default; " + s
	case len(changed) == 0:
		return "saved unchanged"
	}
	return s
}

// Limits of rule settings.
const (
	maxDays      = 3650
	maxThreshold = 1000
	minRepeat    = 5 * time.Minute
	maxRepeat    = 365 * day
	maxChannels  = 20
)

var channelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// validRule checks the settings of r.
func validRule(r *Rule) error {
	switch {
	case r.Severity != "" && r.Severity != inventory.SeverityWarning && r.Severity != inventory.SeverityCritical &&
		r.Severity != inventory.SeverityInfo:
		return inventory.Invalid("severity", "severity %q: want info, warning or critical", r.Severity)
	case r.WarnDays < 0 || r.WarnDays > maxDays || r.CriticalDays < 0 || r.CriticalDays > maxDays:
		return inventory.Invalid("warn_days", "days must be 0 to %d", maxDays)
	case r.CriticalDays > r.WarnDays:
		return inventory.Invalid("critical_days", "critical days %d exceed warning days %d", r.CriticalDays, r.WarnDays)
	case !(r.WarnFraction >= 0 && r.WarnFraction < 1) || !(r.CriticalFraction >= 0 && r.CriticalFraction < 1):
		return inventory.Invalid("warn_fraction", "lifetime fractions must be 0 (off) or more, and less than 1")
	case r.Thresholds != ThresholdExpiry && (r.WarnDays != 0 || r.CriticalDays != 0 || r.WarnFraction != 0 || r.CriticalFraction != 0):
		return inventory.Invalid("warn_days", "rule %s has no expiry thresholds", r.Name)
	case (r.Thresholds == ThresholdRuns || r.Thresholds == ThresholdDays) && (r.Threshold < 1 || r.Threshold > maxThreshold):
		return inventory.Invalid("threshold", "threshold %d: want 1 to %d %s", r.Threshold, maxThreshold, r.Thresholds)
	case r.Thresholds != ThresholdRuns && r.Thresholds != ThresholdDays && r.Threshold != 0:
		return inventory.Invalid("threshold", "rule %s takes no threshold", r.Name)
	case r.Repeat != 0 && (r.Repeat < minRepeat || r.Repeat > maxRepeat):
		return inventory.Invalid("repeat", "repeat %s: want 0 (never) or %s to %s", r.Repeat, minRepeat, maxRepeat)
	}
	return validChannels(r.Channels)
}

func validChannels(l []string) error {
	if len(l) > maxChannels {
		return inventory.Invalid("channels", "%d channels: at most %d", len(l), maxChannels)
	}
	for _, c := range l {
		if !channelName.MatchString(c) {
			return inventory.Invalid("channels", "channel name %q: letters, digits, '.', '_' and '-', at most 64", c)
		}
	}
	return nil
}

// normalChannels trims, drops empty names and duplicates, and sorts.
func normalChannels(l []string) []string {
	var out []string
	for _, c := range l {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
