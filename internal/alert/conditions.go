package alert

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Subject kinds of alerts.
const (
	SubjectEndpoint    = "endpoint"
	SubjectDefinition  = "definition"
	SubjectAcquisition = "acquisition"
	SubjectDeployment  = "deployment"
)

// condition is one rule holding for one subject at evaluation time.
type condition struct {
	rule, subject, name, severity, summary string
}

// key identifies the alert a condition belongs to.
func key(rule, subject string) string { return rule + "\x00" + subject }

// add records a condition of rule unless the rule is disabled; severity
// "" takes the rule's.
func (e *evaluation) add(rule, subject, name, severity, summary string) {
	r, ok := e.rules[rule]
	if !ok || !r.Enabled {
		return
	}
	if severity == "" {
		severity = r.Severity
	}
	e.conds[key(rule, subject)] = condition{rule, subject, name, severity, summary}
}

// ExpirySeverity is the severity of a certificate with left time until
// it expires and lifetime as its whole validity (0 when unknown) under
// rule r: critical when left is under min(CriticalDays, CriticalFraction
// of lifetime) or the certificate has expired, warning when it is under
// min(WarnDays, WarnFraction of lifetime), "" otherwise. A fraction of 0,
// or an unknown lifetime, leaves the days alone.
func ExpirySeverity(left, lifetime time.Duration, r inventory.AlertRule) string {
	switch {
	case left <= 0:
		return inventory.SeverityCritical
	case left < threshold(r.CriticalDays, r.CriticalFraction, lifetime):
		return inventory.SeverityCritical
	case left < threshold(r.WarnDays, r.WarnFraction, lifetime):
		return inventory.SeverityWarning
	}
	return ""
}

func threshold(days int, fraction float64, lifetime time.Duration) time.Duration {
	d := time.Duration(days) * day
	if fraction > 0 && lifetime > 0 {
		d = min(d, time.Duration(fraction*float64(lifetime)))
	}
	return d
}

// leftText words the time until end, or since it passed.
func leftText(left time.Duration) string {
	switch {
	case left <= 0:
		return fmt.Sprintf("expired %s ago", roughly(-left))
	}
	return "expires in " + roughly(left)
}

// roughly words d in whole days, or hours under two days.
func roughly(d time.Duration) string {
	if d < 2*day {
		return fmt.Sprintf("%d hours", int(math.Floor(d.Hours())))
	}
	return fmt.Sprintf("%d days", int(math.Floor(d.Hours()/24)))
}

// endpoint adds the conditions of one endpoint's latest result.
func (e *evaluation) endpoint(ctx context.Context, ep inventory.Endpoint) error {
	subject := inventory.ObjectRef(SubjectEndpoint, ep.ID)
	name := ep.Address
	if ep.ServerName != "" {
		name = ep.ServerName + " (" + ep.Address + ")"
	}
	rt, err := e.endpointRoute(ctx, ep)
	if err != nil {
		return err
	}
	e.routes[subject] = rt
	r := ep.Last
	switch {
	case r == nil:
		return nil
	case r.Check.Error != "":
		if ep.Failures >= e.rules[RuleUnreachable].Threshold {
			e.add(RuleUnreachable, subject, name, "", fmt.Sprintf("unreachable %d runs in a row: %s", ep.Failures, r.Check.Error))
		}
		return nil
	}
	e.expiry(subject, name, r)
	e.checkProblems(subject, name, r)
	return nil
}

// expiry adds the leaf and chain expiry conditions of a result.
func (e *evaluation) expiry(subject, name string, r *inventory.EndpointResult) {
	if !r.LeafNotAfter.IsZero() {
		left := r.LeafNotAfter.Sub(e.now)
		if sev := ExpirySeverity(left, r.LeafLifetime, e.rules[RuleLeafExpiry].AlertRule); sev != "" {
			e.add(RuleLeafExpiry, subject, name, sev, "certificate "+leftText(left))
		}
	}
	if !r.ChainNotAfter.IsZero() && r.ChainNotAfter.Before(r.LeafNotAfter) {
		left := r.ChainNotAfter.Sub(e.now)
		if sev := ExpirySeverity(left, 0, e.rules[RuleChainExpiry].AlertRule); sev != "" {
			e.add(RuleChainExpiry, subject, name, sev, "a certificate of the served chain "+leftText(left))
		}
	}
}

// checkProblems adds the conditions the check of a result found.
func (e *evaluation) checkProblems(subject, name string, r *inventory.EndpointResult) {
	c := r.Check
	if c.ExpectedSHA256 != "" && !c.Match {
		e.add(RuleNotExpected, subject, name, "", fmt.Sprintf("serves %q (SHA-256 %.16s…), not the expected certificate", c.ServedSubject, c.ServedSHA256))
	}
	if !c.IntermediatesServed {
		e.add(RuleIntermediatesMissing, subject, name, "", "intermediate certificates are not served")
	}
	if c.Revocation == "revoked" {
		e.add(RuleRevoked, subject, name, "", "the served certificate is revoked")
	}
	// The deploy check verifies the chain as served, so a missing
	// intermediate fails it too: that is intermediates-missing's alert,
	// and trust is judged once the server sends the whole chain.
	if !c.ChainVerifies && c.IntermediatesServed {
		e.add(RuleUntrusted, subject, name, "", "the served chain does not verify to a trusted root")
	}
	if !c.NameMatches {
		e.add(RuleNameMismatch, subject, name, "", "the served certificate does not name "+firstOf(c.ServerName, c.Address))
	}
	if r.NotYetValid {
		e.add(RuleNotYetValid, subject, name, "", "the served certificate is not valid yet")
	}
}

func firstOf(l ...string) string {
	for _, s := range l {
		if s != "" {
			return s
		}
	}
	return ""
}

// endpointRoute finds who is responsible for an endpoint: the admin of
// the target a deployment endpoint checks, and the contact of the
// definition behind it.
func (e *evaluation) endpointRoute(ctx context.Context, ep inventory.Endpoint) (route, error) {
	rt := route{labels: ep.Labels}
	var defIDs []int64
	switch ep.Source {
	case inventory.EndpointDeployment:
		d, err := e.facts.GetDeployment(ctx, ep.SourceID)
		if err != nil {
			return rt, ignoreNotFound(err)
		}
		t, err := e.target(ctx, d.TargetID)
		if err != nil {
			return rt, err
		}
		if t != nil {
			rt.emails = append(rt.emails, t.AdminEmail)
		}
		defIDs = append(defIDs, d.DefinitionID)
	case inventory.EndpointDefinition:
		defIDs = append(defIDs, ep.SourceID)
	case inventory.EndpointCertificate:
		p, err := e.facts.ListDefinitions(ctx, inventory.DefinitionFilter{CurrentCertificateID: ep.SourceID}, inventory.Page{})
		if err != nil {
			return rt, err
		}
		for _, d := range p.Items {
			defIDs = append(defIDs, d.ID)
		}
	}
	for _, id := range defIDs {
		d, err := e.definition(ctx, id)
		if err != nil {
			return rt, err
		}
		if d != nil {
			rt.emails = append(rt.emails, d.ContactEmail)
		}
	}
	return rt, nil
}

// definition returns a definition, cached per evaluation; nil when id is
// 0 or unknown.
func (e *evaluation) definition(ctx context.Context, id int64) (*inventory.Definition, error) {
	if d, ok := e.defs[id]; ok || id == 0 {
		return d, nil
	}
	d, err := e.facts.GetDefinition(ctx, id)
	if err != nil {
		return nil, ignoreNotFound(err)
	}
	e.defs[id] = d
	return d, nil
}

// target returns a target, cached per evaluation; nil when unknown.
func (e *evaluation) target(ctx context.Context, id int64) (*inventory.Target, error) {
	if t, ok := e.targets[id]; ok {
		return t, nil
	}
	t, err := e.facts.GetTarget(ctx, id)
	if err != nil {
		return nil, ignoreNotFound(err)
	}
	e.targets[id] = t
	return t, nil
}

func ignoreNotFound(err error) error {
	if errors.Is(err, inventory.ErrNotFound) {
		return nil
	}
	return err
}
