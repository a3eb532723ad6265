package api

import (
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/monitor"
)

var endpointParams = []param{
	{"status", "string", "ok, warning, failed or pending"},
	{"source", "string", "deployment, certificate, definition or manual"},
	{"q", "string", "text in the address, server name or labels"},
}

// monitorRoutes: monitored endpoints. Everyone reads them and may run a
// check now; only admins add or remove endpoints.
func (a *API) monitorRoutes() []route {
	ep, list := typeOf[client.Endpoint](), typeOf[client.EndpointList]()
	return []route{
		{method: "GET", pattern: "/api/v1/endpoints", op: "listEndpoints", role: user,
			summary: "List the monitored endpoints with their latest results", query: endpointParams, out: list,
			handle: a.listEndpoints},
		{method: "POST", pattern: "/api/v1/endpoints", op: "addEndpoint", role: admin,
			summary: "Monitor an endpoint (audited)", in: typeOf[client.EndpointAdd](), out: ep,
			status: http.StatusCreated, handle: a.addEndpoint},
		{method: "GET", pattern: "/api/v1/endpoints/{id}", op: "getEndpoint", role: user,
			summary: "Get an endpoint with its latest result", out: ep, handle: a.getEndpoint},
		{method: "DELETE", pattern: "/api/v1/endpoints/{id}", op: "removeEndpoint", role: admin,
			summary: "Stop monitoring an endpoint and drop its history (audited; 409 for a deployment's endpoint)",
			status:  http.StatusNoContent, handle: a.removeEndpoint},
		{method: "GET", pattern: "/api/v1/endpoints/{id}/history", op: "endpointHistory", role: user,
			summary: "An endpoint's results, newest first", query: pageParams, out: typeOf[client.EndpointHistory](),
			handle: a.endpointHistory},
		{method: "POST", pattern: "/api/v1/monitor/run", op: "runMonitor", role: user,
			summary: "Check the endpoints given (every endpoint when none) now, and return them", in: typeOf[client.MonitorRun](),
			out: list, handle: a.runMonitor},
	}
}

func (a *API) listEndpoints(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	es, err := a.Monitor.List(r.Context(), monitor.Filter{Status: q.Get("status"), Source: q.Get("source"), Text: q.Get("q")})
	if err != nil {
		return err
	}
	return ok(w, endpointsOut(es))
}

func (a *API) addEndpoint(w http.ResponseWriter, r *http.Request) error {
	var in client.EndpointAdd
	if err := decode(r, &in); err != nil {
		return err
	}
	req, err := endpointIn(&in)
	if err != nil {
		return err
	}
	e, err := a.Monitor.Add(r.Context(), actor(r), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, endpointOut(e))
}

func (a *API) getEndpoint(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	e, err := a.Monitor.Get(r.Context(), id)
	if err != nil {
		return missing(err, "endpoint", id)
	}
	return ok(w, endpointOut(e))
}

func (a *API) removeEndpoint(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.Monitor.Remove(r.Context(), actor(r), id); err != nil {
		return missing(err, "endpoint", id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) endpointHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	rs, next, err := a.Monitor.History(r.Context(), id, p)
	if err != nil {
		return missing(err, "endpoint", id)
	}
	out := client.EndpointHistory{Items: make([]client.EndpointResult, 0, len(rs)), Next: next}
	for i := range rs {
		out.Items = append(out.Items, *endpointResultOut(&rs[i]))
	}
	return ok(w, out)
}

func (a *API) runMonitor(w http.ResponseWriter, r *http.Request) error {
	var in client.MonitorRun
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	es, err := a.Monitor.RunNow(r.Context(), in.IDs, nil)
	if err != nil {
		return err
	}
	return ok(w, endpointsOut(es))
}

// endpointIn converts the wire form; a bad interval is a field error.
func endpointIn(in *client.EndpointAdd) (monitor.AddRequest, error) {
	var iv time.Duration
	if in.Interval != "" {
		d, err := time.ParseDuration(in.Interval)
		if err != nil {
			return monitor.AddRequest{}, inventory.Invalid("interval", "%q is not a duration such as 6h or 30m", in.Interval)
		}
		iv = d
	}
	return monitor.AddRequest{Address: in.Address, ServerName: in.ServerName, StartTLS: in.StartTLS,
		ClientCertificateID: in.ClientCertificateID, Interval: iv, CertificateID: in.CertificateID,
		DefinitionID: in.DefinitionID, Labels: in.Labels}, nil
}

func endpointsOut(es []inventory.Endpoint) client.EndpointList {
	out := client.EndpointList{Items: make([]client.Endpoint, 0, len(es))}
	for i := range es {
		out.Items = append(out.Items, endpointOut(&es[i]))
	}
	return out
}

func endpointOut(e *inventory.Endpoint) client.Endpoint {
	return client.Endpoint{ID: e.ID, Address: e.Address, ServerName: e.ServerName, StartTLS: e.StartTLS,
		ClientCertificateID: e.ClientCertificateID, Interval: e.Interval.String(), Source: e.Source, SourceID: e.SourceID,
		Labels: e.Labels, CreatedAt: e.CreatedAt.UTC(), NextCheckAt: e.NextCheckAt.UTC(), Failures: e.Failures,
		Status: e.Last.Status(), Last: endpointResultOut(e.Last)}
}

func endpointResultOut(r *inventory.EndpointResult) *client.EndpointResult {
	if r == nil {
		return nil
	}
	out := &client.EndpointResult{ID: r.ID, EndpointID: r.EndpointID, Check: client.CheckResult(r.Check),
		ChainSHA256: r.ChainSHA256, LeafNotAfter: r.LeafNotAfter, ChainNotAfter: r.ChainNotAfter,
		ChainDaysLeft: r.ChainDaysLeft, NotYetValid: r.NotYetValid, Status: r.Status()}
	if r.LeafLifetime > 0 {
		out.LeafLifetime = r.LeafLifetime.String()
	}
	return out
}
