package alert

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// defaultRenewalWindow applies to a definition without a renewal policy.
const defaultRenewalWindow = 30 * day

// definitions adds the renewal-overdue and acquisition-stuck conditions.
func (e *evaluation) definitions(ctx context.Context) error {
	busy, err := e.acquisitions(ctx)
	if err != nil {
		return err
	}
	p := inventory.Page{Limit: inventory.MaxPageSize}
	for {
		l, err := e.facts.ListDefinitions(ctx, inventory.DefinitionFilter{}, p)
		if err != nil {
			return err
		}
		for i := range l.Items {
			d := &l.Items[i]
			e.defs[d.ID] = d
			e.routes[inventory.ObjectRef(SubjectDefinition, d.ID)] = route{emails: []string{d.ContactEmail}, labels: d.Labels}
			if err := e.renewal(ctx, d, busy[d.ID]); err != nil {
				return err
			}
		}
		if l.Next == "" {
			return nil
		}
		p.After = l.Next
	}
}

// renewal adds renewal-overdue for d when its current certificate is
// within the renewal window and no acquisition is under way.
func (e *evaluation) renewal(ctx context.Context, d *inventory.Definition, busy bool) error {
	if d.CurrentCertificateID == 0 || busy {
		return nil
	}
	c, err := e.facts.GetCertificate(ctx, d.CurrentCertificateID)
	if err != nil {
		return ignoreNotFound(err)
	}
	due := c.NotAfter.Add(-RenewalWindow(d.Renewal, c.NotAfter.Sub(c.NotBefore)))
	if e.now.Before(due) {
		return nil
	}
	sev := ""
	if !e.now.Before(c.NotAfter) {
		sev = inventory.SeverityCritical
	}
	e.add(RuleRenewalOverdue, inventory.ObjectRef(SubjectDefinition, d.ID), d.Name, sev,
		fmt.Sprintf("current certificate %s, renewal due since %s, no acquisition under way",
			leftText(c.NotAfter.Sub(e.now)), due.UTC().Format(time.DateOnly)))
	return nil
}

// RenewalWindow is how long before expiry a certificate of lifetime is
// renewed under policy r: DaysBefore days, or LifetimeFraction of the
// lifetime, or 30 days when neither is set.
func RenewalWindow(r inventory.Renewal, lifetime time.Duration) time.Duration {
	switch {
	case r.DaysBefore > 0:
		return time.Duration(r.DaysBefore) * day
	case r.LifetimeFraction > 0:
		return time.Duration(r.LifetimeFraction * float64(lifetime))
	}
	return defaultRenewalWindow
}

// acquisitions adds acquisition-stuck conditions and returns the
// definitions with an open process.
func (e *evaluation) acquisitions(ctx context.Context) (map[int64]bool, error) {
	busy := map[int64]bool{}
	limit := time.Duration(e.rules[RuleAcquisitionStuck].Threshold) * day
	f := inventory.AcquisitionFilter{States: inventory.OpenAcquisitionStates}
	p := inventory.Page{Limit: inventory.MaxPageSize}
	for {
		l, err := e.facts.ListAcquisitions(ctx, f, p)
		if err != nil {
			return nil, err
		}
		for _, a := range l.Items {
			busy[a.DefinitionID] = true
			if err := e.acquisition(ctx, a, limit); err != nil {
				return nil, err
			}
		}
		if l.Next == "" {
			return busy, nil
		}
		p.After = l.Next
	}
}

// acquisition adds acquisition-stuck for a when it has not moved for
// limit: since its order date once ordered, else since its last change.
func (e *evaluation) acquisition(ctx context.Context, a inventory.Acquisition, limit time.Duration) error {
	subject := inventory.ObjectRef(SubjectAcquisition, a.ID)
	d, err := e.definition(ctx, a.DefinitionID)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("acquisition %d", a.ID)
	if d != nil {
		name += " for " + d.Name
		e.routes[subject] = route{emails: []string{d.ContactEmail}, labels: d.Labels}
	}
	since := a.UpdatedAt
	if a.State == inventory.StateOrdered && a.Order != nil && !a.Order.Date.IsZero() {
		since = a.Order.Date
	}
	if e.now.Sub(since) >= limit {
		e.add(RuleAcquisitionStuck, subject, name, "", fmt.Sprintf("%s for %d days", a.State, wholeDays(e.now.Sub(since))))
	}
	return nil
}

func wholeDays(d time.Duration) int { return int(math.Floor(d.Hours() / 24)) }

// deployments adds deployment-stuck conditions: ongoing processes
// unchanged for the rule's days.
func (e *evaluation) deployments(ctx context.Context) error {
	limit := time.Duration(e.rules[RuleDeploymentStuck].Threshold) * day
	f := inventory.DeploymentFilter{States: []inventory.DeploymentState{inventory.DeployPrepared,
		inventory.DeployInstallRequested, inventory.DeployInstalled}}
	p := inventory.Page{Limit: inventory.MaxPageSize}
	for {
		l, err := e.facts.ListDeployments(ctx, f, p)
		if err != nil {
			return err
		}
		for _, d := range l.Items {
			if err := e.deployment(ctx, d, limit); err != nil {
				return err
			}
		}
		if l.Next == "" {
			return nil
		}
		p.After = l.Next
	}
}

func (e *evaluation) deployment(ctx context.Context, d inventory.Deployment, limit time.Duration) error {
	subject := inventory.ObjectRef(SubjectDeployment, d.ID)
	t, err := e.target(ctx, d.TargetID)
	if err != nil {
		return err
	}
	def, err := e.definition(ctx, d.DefinitionID)
	if err != nil {
		return err
	}
	name, rt := fmt.Sprintf("deployment %d", d.ID), route{}
	if t != nil {
		name += " to " + t.Name
		rt.emails = append(rt.emails, t.AdminEmail)
	}
	if def != nil {
		rt.emails, rt.labels = append(rt.emails, def.ContactEmail), def.Labels
	}
	e.routes[subject] = rt
	if e.now.Sub(d.UpdatedAt) >= limit {
		e.add(RuleDeploymentStuck, subject, name, "", fmt.Sprintf("%s for %d days", d.State, wholeDays(e.now.Sub(d.UpdatedAt))))
	}
	return nil
}
