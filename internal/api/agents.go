package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func (a *API) agentRoutes() []route {
	ag := typeOf[client.Agent]()
	return []route{
		{method: "GET", pattern: "/api/v1/agents", op: "listAgents", role: admin, summary: "List enrolled agents",
			out: typeOf[client.AgentList](), handle: a.withAgents(a.listAgents)},
		{method: "POST", pattern: "/api/v1/agents/tokens", op: "createAgentToken", role: admin,
			summary: "Make a one-time enrollment token (shown once) with the CA pin", in: typeOf[client.AgentTokenInput](),
			out: typeOf[client.AgentToken](), status: http.StatusCreated, handle: a.withAgents(a.createAgentToken)},
		{method: "POST", pattern: "/api/v1/agents/{id}/disable", op: "disableAgent", role: admin,
			summary: "Disable an agent: its requests are refused", out: ag, handle: a.withAgents(a.disableAgent)},
		{method: "POST", pattern: "/api/v1/agents/{id}/enable", op: "enableAgent", role: admin,
			summary: "Enable a disabled agent", out: ag, handle: a.withAgents(a.enableAgent)},
	}
}

// withAgents answers 503 when the API was built without an agent
// registry.
func (a *API) withAgents(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if a.Agents == nil {
			return &statusError{status: http.StatusServiceUnavailable, err: errors.New("api: deployment agents are not available here")}
		}
		return h(w, r)
	}
}

func (a *API) listAgents(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Agents.List(r.Context())
	if err != nil {
		return err
	}
	out := client.AgentList{Items: make([]client.Agent, len(list))}
	for i := range list {
		out.Items[i] = agentOut(&list[i])
	}
	return ok(w, out)
}

// createAgentToken makes an enrollment token; the token is in this
// response only.
func (a *API) createAgentToken(w http.ResponseWriter, r *http.Request) error {
	var in client.AgentTokenInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.TTLSeconds < 0 {
		return inventory.Invalid("ttl_seconds", "ttl_seconds must not be negative")
	}
	t, err := a.Agents.CreateToken(r.Context(), actor(r), in.Name, time.Duration(in.TTLSeconds)*time.Second)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, client.AgentToken{Name: t.Name, Token: t.Token, CAPin: t.CAPin,
		ExpiresAt: t.ExpiresAt})
}

func (a *API) disableAgent(w http.ResponseWriter, r *http.Request) error {
	return a.setAgentDisabled(w, r, true)
}

func (a *API) enableAgent(w http.ResponseWriter, r *http.Request) error {
	return a.setAgentDisabled(w, r, false)
}

func (a *API) setAgentDisabled(w http.ResponseWriter, r *http.Request, disabled bool) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ag, err := a.Agents.SetDisabled(r.Context(), actor(r), id, disabled)
	if err != nil {
		return err
	}
	return ok(w, agentOut(ag))
}

// agentOut is the wire form of an agent. The two types say the same
// thing field for field, so this is a conversion the compiler checks: a
// field added to one and not the other no longer builds.
func agentOut(ag *inventory.Agent) client.Agent {
	return client.Agent(*ag)
}
