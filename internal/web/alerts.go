package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/alert"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// The alert screens: the list by tab, one alert with its acknowledge and
// silence forms, and the rules (admins). Everyone acknowledges; admins
// silence and change rules (the API checks again).
func (ui *UI) alertRoutes() []route {
	return []route{
		{"GET", "/alerts", user, ui.alertsPage},
		{"GET", "/alerts/{id}", user, ui.alertPage},
		{"POST", "/alerts/{id}/acknowledge", user, ui.alertAcknowledge},
		{"POST", "/alerts/{id}/silence", admin, ui.alertSilence},
		{"GET", "/alert-rules", admin, ui.alertRulesPage},
		{"POST", "/alert-rules/{name}", admin, ui.alertRuleUpdate},
	}
}

// alertTabs are the tabs of the list and the API state each shows.
var alertTabs = []struct{ ID, Label, State string }{
	{"open", "Open", "open"},
	{"acknowledged", "Acknowledged", "acknowledged"},
	{"resolved", "Resolved", "resolved"},
}

// alertsData fills the list.
type alertsData struct {
	Tab  string
	Tabs []struct{ ID, Label, State string }
	List *client.AlertList
}

func (ui *UI) alertsPage(w http.ResponseWriter, r *http.Request) error {
	tab := r.URL.Query().Get("tab")
	state := ""
	for _, t := range alertTabs {
		if t.ID == tab {
			state = t.State
		}
	}
	if state == "" {
		tab, state = "open", "open"
	}
	l, err := ui.api.ListAlerts(r.Context(), client.AlertQuery{State: state,
		Page: client.Page{Limit: listLimit, After: r.URL.Query().Get("after")}})
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "alerts", title: "Alerts", section: "alerts", data: alertsData{Tab: tab, Tabs: alertTabs, List: l}})
	return nil
}

func (ui *UI) alertPage(w http.ResponseWriter, r *http.Request) error {
	return ui.renderAlert(w, r, 0, "", nil)
}

// renderAlert shows one alert, with a refused form's message.
func (ui *UI) renderAlert(w http.ResponseWriter, r *http.Request, status int, msg string, fields map[string]string) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	al, err := ui.api.GetAlert(r.Context(), id)
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "alert", title: fmt.Sprintf("Alert #%d", id), section: "alerts", data: al,
		status: status, err: msg, fields: fields})
	return nil
}

func (ui *UI) alertAcknowledge(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	_, err = ui.api.AcknowledgeAlert(r.Context(), id, r.PostFormValue("reason"))
	if msg, fields, ok := formError(err); ok {
		return ui.renderAlert(w, r, http.StatusUnprocessableEntity, "The alert was not acknowledged: "+msg, fields)
	}
	if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/alerts/%d", id), "Alert acknowledged.")
	return nil
}

func (ui *UI) alertSilence(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	until, err := alert.ParseUntil(r.PostFormValue("until"), ui.Now())
	if err == nil {
		_, err = ui.api.SilenceAlert(r.Context(), id, r.PostFormValue("reason"), until)
	}
	if msg, fields, ok := formError(err); ok {
		return ui.renderAlert(w, r, http.StatusUnprocessableEntity, "The alert was not silenced: "+msg, fields)
	}
	if fe := fieldErr(err); fe != nil {
		return ui.renderAlert(w, r, http.StatusUnprocessableEntity, "The alert was not silenced.", fe)
	}
	if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/alerts/%d", id), "Alert silenced until "+until.UTC().Format(time.RFC3339)+".")
	return nil
}

func (ui *UI) alertRulesPage(w http.ResponseWriter, r *http.Request) error {
	return ui.renderAlertRules(w, r, 0, "", nil)
}

func (ui *UI) renderAlertRules(w http.ResponseWriter, r *http.Request, status int, msg string, fields map[string]string) error {
	l, err := ui.api.ListAlertRules(r.Context())
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "alert_rules", title: "Alert rules", section: "alert-rules", data: l,
		status: status, err: msg, fields: fields})
	return nil
}

func (ui *UI) alertRuleUpdate(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	ch, fields := ruleChange(r)
	if len(fields) > 0 {
		return ui.renderAlertRules(w, r, http.StatusUnprocessableEntity, "Rule "+name+" was not changed.", fields)
	}
	_, err := ui.api.UpdateAlertRule(r.Context(), name, ch)
	if msg, fields, ok := formError(err); ok {
		return ui.renderAlertRules(w, r, http.StatusUnprocessableEntity, "Rule "+name+" was not changed: "+msg, fields)
	}
	if err != nil {
		return err
	}
	redirect(w, r, "/alert-rules", "Rule "+name+" saved.")
	return nil
}

// ruleChange reads the rule form: every field the form shows is sent;
// blank numbers are left alone.
func ruleChange(r *http.Request) (client.AlertRuleChange, map[string]string) {
	fields := map[string]string{}
	ch := client.AlertRuleChange{Reset: r.PostFormValue("reset") == "on"}
	enabled := r.PostFormValue("enabled") == "on"
	ch.Enabled = &enabled
	if s := strings.TrimSpace(r.PostFormValue("severity")); s != "" {
		ch.Severity = &s
	}
	ints := map[string]**int{"warn_days": &ch.WarnDays, "critical_days": &ch.CriticalDays, "threshold": &ch.Threshold}
	for name, dst := range ints {
		if s := strings.TrimSpace(r.PostFormValue(name)); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				fields[name] = "a whole number"
				continue
			}
			*dst = &n
		}
	}
	floats := map[string]**float64{"warn_fraction": &ch.WarnFraction, "critical_fraction": &ch.CriticalFraction}
	for name, dst := range floats {
		if s := strings.TrimSpace(r.PostFormValue(name)); s != "" {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				fields[name] = "a number such as 0.25"
				continue
			}
			*dst = &f
		}
	}
	if s := strings.TrimSpace(r.PostFormValue("repeat")); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			fields["repeat"] = "a duration such as 24h, or 0 for never"
		}
		secs := int64(d / time.Second)
		ch.RepeatSeconds = &secs
	}
	chans := strings.FieldsFunc(r.PostFormValue("channels"), func(c rune) bool { return c == ',' || c == ' ' })
	ch.Channels = &chans
	return ch, fields
}

// fieldErr is the form field map of a FieldError in err's chain, or nil.
func fieldErr(err error) map[string]string {
	var fe *inventory.FieldError
	if !errors.As(err, &fe) {
		return nil
	}
	return map[string]string{fe.Field: fe.Reason}
}
