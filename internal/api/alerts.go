package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/alert"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// alertRoutes: alerts and their rules. Everyone reads and acknowledges
// alerts; only admins silence them or change rules and routing.
func (a *API) alertRoutes() []route {
	one := typeOf[client.Alert]()
	return []route{
		{method: "GET", pattern: "/api/v1/alerts", op: "listAlerts", role: user, summary: "List alerts, newest first",
			query: append([]param{{"state", "string", "open, firing, acknowledged, silenced or resolved"}}, pageParams...),
			out:   typeOf[client.AlertList](), handle: a.listAlerts},
		{method: "GET", pattern: "/api/v1/alerts/{id}", op: "getAlert", role: user, summary: "Get an alert",
			out: one, handle: a.getAlert},
		{method: "POST", pattern: "/api/v1/alerts/{id}/acknowledge", op: "acknowledgeAlert", role: user,
			summary: "Acknowledge an alert with a reason: it stops repeating (audited)", in: typeOf[client.AlertAck](),
			out: one, handle: a.acknowledgeAlert},
		{method: "POST", pattern: "/api/v1/alerts/{id}/silence", op: "silenceAlert", role: admin,
			summary: "Silence an alert until a time, with a reason (audited)", in: typeOf[client.AlertSilence](),
			out: one, handle: a.silenceAlert},
		{method: "GET", pattern: "/api/v1/alert-rules", op: "listAlertRules", role: user,
			summary: "List the alert rules as they apply now", out: typeOf[client.AlertRuleList](), handle: a.listAlertRules},
		{method: "PUT", pattern: "/api/v1/alert-rules/{name}", op: "updateAlertRule", role: admin,
			summary: "Change an alert rule (audited)", in: typeOf[client.AlertRuleChange](), out: typeOf[client.AlertRule](),
			handle: a.updateAlertRule},
		{method: "GET", pattern: "/api/v1/alert-routes", op: "getAlertRoutes", role: user,
			summary: "Get the label-to-channels routing of alerts", out: typeOf[client.AlertRoutes](), handle: a.getAlertRoutes},
		{method: "PUT", pattern: "/api/v1/alert-routes", op: "setAlertRoutes", role: admin,
			summary: "Replace the label-to-channels routing of alerts (audited)", in: typeOf[client.AlertRoutes](),
			out: typeOf[client.AlertRoutes](), handle: a.setAlertRoutes},
	}
}

func (a *API) listAlerts(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	l, next, err := a.Alerts.List(r.Context(), r.URL.Query().Get("state"), p)
	if err != nil {
		return err
	}
	out := client.AlertList{Items: make([]client.Alert, 0, len(l)), Next: next}
	for i := range l {
		out.Items = append(out.Items, alertOut(&l[i]))
	}
	return ok(w, out)
}

func (a *API) getAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	al, err := a.Alerts.Get(r.Context(), id)
	if err != nil {
		return missing(err, "alert", id)
	}
	return ok(w, alertOut(al))
}

func (a *API) acknowledgeAlert(w http.ResponseWriter, r *http.Request) error {
	var in client.AlertAck
	id, err := pathIDAndBody(r, &in)
	if err != nil {
		return err
	}
	al, err := a.Alerts.Acknowledge(r.Context(), requester(r), id, in.Reason)
	return alertResult(w, al, err, id)
}

func (a *API) silenceAlert(w http.ResponseWriter, r *http.Request) error {
	var in client.AlertSilence
	id, err := pathIDAndBody(r, &in)
	if err != nil {
		return err
	}
	al, err := a.Alerts.Silence(r.Context(), requester(r), id, in.Reason, in.Until)
	return alertResult(w, al, err, id)
}

func alertResult(w http.ResponseWriter, al *inventory.Alert, err error, id int64) error {
	if err != nil {
		return alertForbidden(missing(err, "alert", id))
	}
	return ok(w, alertOut(al))
}

// alertForbidden answers a change the user's role does not allow with
// 403.
func alertForbidden(err error) error {
	if errors.Is(err, alert.ErrForbidden) {
		return &statusError{status: http.StatusForbidden, err: err}
	}
	return err
}

func (a *API) listAlertRules(w http.ResponseWriter, r *http.Request) error {
	rules, err := a.Alerts.Rules(r.Context())
	if err != nil {
		return err
	}
	out := client.AlertRuleList{Items: make([]client.AlertRule, 0, len(rules))}
	for i := range rules {
		out.Items = append(out.Items, alertRuleOut(&rules[i]))
	}
	return ok(w, out)
}

func (a *API) updateAlertRule(w http.ResponseWriter, r *http.Request) error {
	var in client.AlertRuleChange
	if err := decode(r, &in); err != nil {
		return err
	}
	ch := alert.RuleChange{Enabled: in.Enabled, Severity: in.Severity, WarnDays: in.WarnDays, CriticalDays: in.CriticalDays,
		WarnFraction: in.WarnFraction, CriticalFraction: in.CriticalFraction, Threshold: in.Threshold,
		Channels: in.Channels, Reset: in.Reset}
	if in.RepeatSeconds != nil {
		d := time.Duration(*in.RepeatSeconds) * time.Second
		ch.Repeat = &d
	}
	rule, err := a.Alerts.UpdateRule(r.Context(), requester(r), r.PathValue("name"), ch)
	if err != nil {
		return alertForbidden(err)
	}
	return ok(w, alertRuleOut(rule))
}

func (a *API) getAlertRoutes(w http.ResponseWriter, r *http.Request) error {
	routes, err := a.Alerts.Routes(r.Context())
	if err != nil {
		return err
	}
	return ok(w, client.AlertRoutes{Routes: routes})
}

func (a *API) setAlertRoutes(w http.ResponseWriter, r *http.Request) error {
	var in client.AlertRoutes
	if err := decode(r, &in); err != nil {
		return err
	}
	routes, err := a.Alerts.SetRoutes(r.Context(), requester(r), in.Routes)
	if err != nil {
		return alertForbidden(err)
	}
	return ok(w, client.AlertRoutes{Routes: routes})
}

// alertOut is the API form of an alert (the web UI shows the same).
func alertOut(al *inventory.Alert) client.Alert {
	return client.Alert{ID: al.ID, Rule: al.Rule, Subject: al.Subject, SubjectName: al.SubjectName, Severity: al.Severity,
		State: string(al.State), Summary: al.Summary, FiredAt: al.FiredAt.UTC(), LastNotifiedAt: al.LastNotifiedAt.UTC(),
		Notifications: al.Notifications, AckBy: al.AckBy, AckAt: al.AckAt.UTC(), AckReason: al.AckReason,
		SilencedBy: al.SilencedBy, SilencedUntil: al.SilencedUntil.UTC(), SilenceReason: al.SilenceReason,
		ResolvedAt: al.ResolvedAt.UTC()}
}

// alertRuleOut is the API form of a rule.
func alertRuleOut(r *alert.Rule) client.AlertRule {
	return client.AlertRule{Name: r.Name, Title: r.Title, Thresholds: r.Thresholds, Enabled: r.Enabled, Severity: r.Severity,
		WarnDays: r.WarnDays, CriticalDays: r.CriticalDays, WarnFraction: r.WarnFraction, CriticalFraction: r.CriticalFraction,
		Threshold: r.Threshold, RepeatSeconds: int64(r.Repeat / time.Second), Channels: nonNil(r.Channels),
		Changed: r.Changed, UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.UTC()}
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
