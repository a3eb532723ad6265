package alert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// evaluation is one run of Evaluate: the rules and settings it read, the
// conditions it found and who hears about each subject.
type evaluation struct {
	now                     time.Time
	facts                   Facts
	rules                   map[string]Rule
	labelRoutes             Routes
	adminEmail, externalURL string
	conds                   map[string]condition
	routes                  map[string]route
	defs                    map[int64]*inventory.Definition
	targets                 map[int64]*inventory.Target
}

// Result says what one Evaluate did.
type Result struct {
	// Fired, Changed, Repeated and Resolved count the alerts that fired,
	// changed severity, repeated and resolved; Sent counts the notices
	// sent (0 without a notifier).
	Fired, Changed, Repeated, Resolved, Sent int
	// Open counts the alerts open afterwards.
	Open int
}

// Evaluate computes every rule's conditions from the facts and
// reconciles them with the stored alerts in one transaction: a new
// condition fires an alert, a changed severity notifies once, a
// condition still true repeats on its rule's interval while the alert is
// neither acknowledged nor silenced, and a condition that ended resolves
// its alert. The notices are sent after the transaction commits; a
// notice that cannot be sent is reported in the error, the alerts stay
// recorded.
func (s *Service) Evaluate(ctx context.Context) (*Result, error) {
	e, err := s.newEvaluation(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.collect(ctx, e); err != nil {
		return nil, err
	}
	var res Result
	var notices []inventory.Notice
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		res, notices = Result{}, nil
		var err error
		notices, err = e.reconcile(ctx, tx, &res)
		return err
	})
	if err != nil {
		return nil, err
	}
	res.Sent, err = s.send(ctx, notices)
	return &res, err
}

func (s *Service) newEvaluation(ctx context.Context) (*evaluation, error) {
	rules, err := s.Rules(ctx)
	if err != nil {
		return nil, err
	}
	labels, err := loadRoutes(ctx, s.store)
	if err != nil {
		return nil, err
	}
	e := &evaluation{now: s.now().UTC().Truncate(time.Second), facts: s.store, rules: map[string]Rule{},
		labelRoutes: labels, conds: map[string]condition{}, routes: map[string]route{},
		defs: map[int64]*inventory.Definition{}, targets: map[int64]*inventory.Target{}}
	for _, r := range rules {
		e.rules[r.Name] = r
	}
	if s.settings != nil {
		st, err := s.settings.Get(ctx)
		if err != nil {
			return nil, err
		}
		e.adminEmail, e.externalURL = st.AdminEmail, strings.TrimRight(st.ExternalURL, "/")
	}
	return e, nil
}

// collect reads the facts and adds the conditions they show.
func (s *Service) collect(ctx context.Context, e *evaluation) error {
	if s.endpoints != nil {
		eps, err := s.endpoints.AllEndpoints(ctx)
		if err != nil {
			return err
		}
		for _, ep := range eps {
			if err := e.endpoint(ctx, ep); err != nil {
				return err
			}
		}
	}
	if err := e.definitions(ctx); err != nil {
		return err
	}
	return e.deployments(ctx)
}

// reconcile brings the stored alerts in line with the conditions and
// returns the notices to send.
func (e *evaluation) reconcile(ctx context.Context, tx inventory.Store, res *Result) ([]inventory.Notice, error) {
	open, err := tx.OpenAlerts(ctx)
	if err != nil {
		return nil, err
	}
	var notices []inventory.Notice
	seen := map[string]bool{}
	for i := range open {
		a := &open[i]
		k := key(a.Rule, a.Subject)
		seen[k] = true
		n, err := e.update(ctx, tx, a, k, res)
		if err != nil {
			return nil, err
		}
		notices = append(notices, n...)
	}
	keys := make([]string, 0, len(e.conds))
	for k := range e.conds {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		n, err := e.fire(ctx, tx, e.conds[k])
		if err != nil {
			return nil, err
		}
		res.Fired++
		notices = append(notices, n)
	}
	res.Open = len(open) - res.Resolved + res.Fired
	return notices, nil
}

// fire stores a new alert for c and returns its firing notice.
func (e *evaluation) fire(ctx context.Context, tx inventory.Store, c condition) (inventory.Notice, error) {
	a := &inventory.Alert{Rule: c.rule, Subject: c.subject, SubjectName: c.name, Severity: c.severity,
		State: inventory.AlertFiring, Summary: c.summary, FiredAt: e.now, LastNotifiedAt: e.now, Notifications: 1}
	if err := tx.PutAlert(ctx, a); err != nil {
		return inventory.Notice{}, err
	}
	return e.notice(inventory.NoticeFiring, a), nil
}

// update moves one open alert on: resolved when its condition ended,
// renotified when its severity changed or its repeat is due, and back to
// firing when its silence has passed.
func (e *evaluation) update(ctx context.Context, tx inventory.Store, a *inventory.Alert, k string, res *Result) ([]inventory.Notice, error) {
	c, holds := e.conds[k]
	before := *a
	kind := ""
	switch {
	case !holds:
		a.State, a.ResolvedAt, kind = inventory.AlertResolved, e.now, inventory.NoticeResolved
		res.Resolved++
	default:
		kind = e.advance(a, c, res)
	}
	if kind != "" {
		a.LastNotifiedAt, a.Notifications = e.now, a.Notifications+1
	}
	if *a == before {
		return nil, nil
	}
	if err := tx.UpdateAlert(ctx, a, nil); err != nil {
		return nil, err
	}
	if kind == "" {
		return nil, nil
	}
	return []inventory.Notice{e.notice(kind, a)}, nil
}

// advance applies a condition that still holds to its open alert and
// returns the kind of notice it calls for ("" for none).
func (e *evaluation) advance(a *inventory.Alert, c condition, res *Result) string {
	if a.State == inventory.AlertSilenced && !e.now.Before(a.SilencedUntil) {
		a.State = inventory.AlertFiring
	}
	a.SubjectName, a.Summary = c.name, c.summary
	if c.severity != a.Severity {
		if rank(c.severity) > rank(a.Severity) && a.State == inventory.AlertAcknowledged {
			a.State = inventory.AlertFiring
		}
		a.Severity = c.severity
		res.Changed++
		if a.State == inventory.AlertSilenced {
			return ""
		}
		return inventory.NoticeFiring
	}
	repeat := e.rules[a.Rule].Repeat
	if a.State == inventory.AlertFiring && repeat > 0 && e.now.Sub(a.LastNotifiedAt) >= repeat {
		res.Repeated++
		return inventory.NoticeRepeat
	}
	return ""
}

// rank orders severities: critical above warning above info.
func rank(severity string) int {
	switch severity {
	case inventory.SeverityCritical:
		return 3
	case inventory.SeverityWarning:
		return 2
	case inventory.SeverityInfo:
		return 1
	}
	return 0
}

func sortBySeverity(l []inventory.Alert) {
	slices.SortStableFunc(l, func(a, b inventory.Alert) int { return rank(b.Severity) - rank(a.Severity) })
}

// notice builds the notice of kind about a.
func (e *evaluation) notice(kind string, a *inventory.Alert) inventory.Notice {
	rule := e.rules[a.Rule]
	emails, chans := e.recipients(rule, a.Subject)
	n := inventory.Notice{Kind: kind, Severity: a.Severity, Key: inventory.ObjectRef(inventory.KindAlert, a.ID),
		Channels: chans, Emails: emails}
	title := firstOf(rule.Title, a.Rule)
	switch kind {
	case inventory.NoticeResolved:
		n.Severity = inventory.SeverityInfo
		n.Subject = fmt.Sprintf("resolved: %s: %s", a.SubjectName, title)
	case inventory.NoticeRepeat:
		n.Subject = fmt.Sprintf("still %s: %s: %s", a.Severity, a.SubjectName, a.Summary)
	default:
		n.Subject = fmt.Sprintf("%s: %s: %s", a.Severity, a.SubjectName, a.Summary)
	}
	if e.externalURL != "" {
		n.Link = fmt.Sprintf("%s/alerts/%d", e.externalURL, a.ID)
	}
	n.Text = noticeText(a, title, n.Link)
	return n
}

func noticeText(a *inventory.Alert, title, link string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Alert %d: %s\n", a.ID, title)
	fmt.Fprintf(&b, "Subject: %s (%s)\n", a.SubjectName, a.Subject)
	fmt.Fprintf(&b, "Severity: %s\nState: %s\n", a.Severity, a.State)
	fmt.Fprintf(&b, "Summary: %s\n", a.Summary)
	fmt.Fprintf(&b, "Fired: %s\n", a.FiredAt.UTC().Format(time.RFC3339))
	if !a.ResolvedAt.IsZero() {
		fmt.Fprintf(&b, "Resolved: %s\n", a.ResolvedAt.UTC().Format(time.RFC3339))
	}
	if link != "" {
		fmt.Fprintf(&b, "\n%s\n", link)
	}
	return b.String()
}

// send hands each notice to the notifier and returns how many it took.
func (s *Service) send(ctx context.Context, notices []inventory.Notice) (int, error) {
	if len(notices) == 0 {
		return 0, nil
	}
	if s.notifier == nil {
		s.log.Info("alerts recorded; no notifier is configured, so no notice was sent", "notices", len(notices))
		return 0, nil
	}
	var errs []error
	sent := 0
	for _, n := range notices {
		if err := s.notifier.Notify(ctx, n); err != nil {
			errs = append(errs, fmt.Errorf("alert: notice %s (%s): %w", n.Key, n.Kind, err))
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}
