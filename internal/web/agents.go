package web

import (
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/certkeeper/certkeeper/client"
)

// defaultAgentPort is the port of the manager's agent endpoint
// (--agent-listen) unless it was changed.
const defaultAgentPort = "8444"

// defaultTokenHours is the lifetime the token form offers.
const defaultTokenHours = "24"

// The agents screen: enrolled agents and enrollment tokens, for admins
// (the API's agent routes are admin routes).
func (ui *UI) agentRoutes() []route {
	return []route{
		{"GET", "/agents", admin, ui.agentList},
		{"POST", "/agents/tokens", admin, ui.agentTokenCreate},
		{"POST", "/agents/{id}/disable", admin, ui.agentDisable},
		{"POST", "/agents/{id}/enable", admin, ui.agentEnable},
	}
}

// agentListData fills the agents page. Token is a new enrollment token,
// set on the page answering its creation only.
type agentListData struct {
	Items []client.Agent
	Token *client.AgentToken
	// Command is the enroll command to run on the host, with Token.
	Command string
	// Name and Hours are the token form's values.
	Name, Hours string
}

func (ui *UI) agentList(w http.ResponseWriter, r *http.Request) error {
	return ui.renderAgents(w, r, agentListData{}, 0, "", nil)
}

// renderAgents shows the agents page, with a refused form's message and
// field errors when msg is set.
func (ui *UI) renderAgents(w http.ResponseWriter, r *http.Request, d agentListData, status int, msg string, fields map[string]string) error {
	l, err := ui.api.ListAgents(r.Context())
	if err != nil {
		return err
	}
	d.Items = l.Items
	if d.Hours == "" {
		d.Hours = defaultTokenHours
	}
	ui.render(w, r, page{name: "agents", title: "Agents", section: "agents", data: d, status: status, err: msg, fields: fields})
	return nil
}

// agentTokenCreate makes an enrollment token and shows it, with the CA
// pin and the enroll command, on this response only: it is not kept
// anywhere the browser could show it again.
func (ui *UI) agentTokenCreate(w http.ResponseWriter, r *http.Request) error {
	d := agentListData{Name: strings.TrimSpace(r.PostFormValue("name")), Hours: strings.TrimSpace(r.PostFormValue("hours"))}
	var t *client.AgentToken
	hours, err := tokenHours(d.Hours)
	if err == nil {
		t, err = ui.api.CreateAgentToken(r.Context(), client.AgentTokenInput{Name: d.Name, TTLSeconds: hours * 3600})
	}
	if msg, fields, ok := formError(err); ok {
		if f, ok := fields["ttl_seconds"]; ok {
			fields["hours"] = f
		}
		return ui.renderAgents(w, r, d, http.StatusUnprocessableEntity, "No token was made: "+msg, fields)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return ui.renderAgents(w, r, agentListData{Token: t, Command: enrollCommand(r, t)}, 0, "", nil)
}

// tokenHours reads the lifetime field: whole hours, empty for the
// default.
func tokenHours(s string) (int, error) {
	if s == "" {
		s = defaultTokenHours
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, apiError(http.StatusUnprocessableEntity, fmt.Sprintf("The lifetime %q is not a whole number of hours above 0.", s),
			"hours", "a whole number of hours above 0")
	}
	return n, nil
}

// hostPattern is what a host name or IP address in the enroll command may
// look like; anything else in the Host header is left out.
var hostPattern = regexp.MustCompile(`^[A-Za-z0-9.:-]{1,253}$`)

// enrollCommand is the command to run on the host: the endpoint is the
// host name this page was reached by, at the agent endpoint's default
// port.
func enrollCommand(r *http.Request, t *client.AgentToken) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if !hostPattern.MatchString(host) {
		host = "MANAGER-HOST"
	}
	return fmt.Sprintf("certkeeper agent enroll --server https://%s --token %s --ca-pin %s --name %s",
		net.JoinHostPort(host, defaultAgentPort), t.Token, t.CAPin, t.Name)
}

func (ui *UI) agentDisable(w http.ResponseWriter, r *http.Request) error {
	return ui.agentSetDisabled(w, r, true)
}

func (ui *UI) agentEnable(w http.ResponseWriter, r *http.Request) error {
	return ui.agentSetDisabled(w, r, false)
}

// agentSetDisabled disables or enables the path's agent and goes back to
// the list; a refusal is shown on it.
func (ui *UI) agentSetDisabled(w http.ResponseWriter, r *http.Request, disabled bool) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := ui.api.SetAgentDisabled(r.Context(), id, disabled)
	if msg, fields, ok := formError(err); ok {
		return ui.renderAgents(w, r, agentListData{}, http.StatusUnprocessableEntity, msg, fields)
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Agent %s enabled: it gets its jobs again.", a.Name)
	if disabled {
		msg = fmt.Sprintf("Agent %s disabled: its requests are refused until it is enabled again.", a.Name)
	}
	redirect(w, r, "/agents", msg)
	return nil
}
