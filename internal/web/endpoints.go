package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/certkeeper/certkeeper/client"
)

// The monitored endpoints: a list with filters (admins add endpoints
// there) and a page per endpoint with its history and a chart of the
// days left. Everyone may run the checks now.
func (ui *UI) endpointRoutes() []route {
	return []route{
		{"GET", "/endpoints", user, ui.endpointsPage},
		{"POST", "/endpoints", admin, ui.endpointAdd},
		{"POST", "/endpoints/run", user, ui.endpointsRun},
		{"GET", "/endpoints/{id}", user, ui.endpointPage},
		{"POST", "/endpoints/{id}/run", user, ui.endpointRun},
		{"POST", "/endpoints/{id}/remove", admin, ui.endpointRemove},
	}
}

// endpointsData is the list page's view.
type endpointsData struct {
	Items                 []client.Endpoint
	Status, Source, Q     string
	Statuses, Sources     []string
	Form                  client.EndpointAdd
	FormCertID, FormDefID string
}

func (ui *UI) endpointsPage(w http.ResponseWriter, r *http.Request) error {
	return ui.renderEndpoints(w, r, 0, "", nil, client.EndpointAdd{})
}

// renderEndpoints shows the list, with a refused form's message and
// values.
func (ui *UI) renderEndpoints(w http.ResponseWriter, r *http.Request, status int, msg string, fields map[string]string,
	form client.EndpointAdd) error {
	q := r.URL.Query()
	d := endpointsData{Status: q.Get("status"), Source: q.Get("source"), Q: q.Get("q"), Form: form,
		Statuses: []string{"ok", "warning", "failed", "pending"},
		Sources:  []string{"deployment", "certificate", "definition", "manual"}}
	if form.CertificateID != 0 {
		d.FormCertID = strconv.FormatInt(form.CertificateID, 10)
	}
	if form.DefinitionID != 0 {
		d.FormDefID = strconv.FormatInt(form.DefinitionID, 10)
	}
	l, err := ui.api.ListEndpoints(r.Context(), client.EndpointFilter{Status: d.Status, Source: d.Source, Q: d.Q})
	if msg2, _, ok := formError(err); ok {
		status, msg = http.StatusUnprocessableEntity, "The filter was refused: "+msg2
		l, err = ui.api.ListEndpoints(r.Context(), client.EndpointFilter{})
	}
	if err != nil {
		return err
	}
	d.Items = l.Items
	ui.render(w, r, page{name: "endpoints", title: "Endpoints", section: "endpoints", data: d, status: status,
		err: msg, fields: fields})
	return nil
}

func (ui *UI) endpointAdd(w http.ResponseWriter, r *http.Request) error {
	in := client.EndpointAdd{Address: r.PostFormValue("address"), ServerName: r.PostFormValue("server_name"),
		StartTLS: r.PostFormValue("starttls"), Interval: r.PostFormValue("interval")}
	for _, l := range strings.Split(r.PostFormValue("labels"), ",") {
		if l = strings.TrimSpace(l); l != "" {
			in.Labels = append(in.Labels, l)
		}
	}
	fields := map[string]string{}
	for name, dst := range map[string]*int64{"certificate_id": &in.CertificateID, "definition_id": &in.DefinitionID,
		"client_certificate_id": &in.ClientCertificateID} {
		v := strings.TrimPrefix(strings.TrimSpace(r.PostFormValue(name)), "#")
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			fields[name] = "give an ID (a positive number), or leave it empty"
		}
		*dst = n
	}
	if len(fields) > 0 {
		return ui.renderEndpoints(w, r, http.StatusUnprocessableEntity, "The endpoint was not added.", fields, in)
	}
	e, err := ui.api.AddEndpoint(r.Context(), in)
	if msg, fields, ok := formError(err); ok {
		return ui.renderEndpoints(w, r, http.StatusUnprocessableEntity, "The endpoint was not added: "+msg, fields, in)
	}
	if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/endpoints/%d", e.ID), fmt.Sprintf("%s is monitored; it is checked within a minute.", e.Address))
	return nil
}

func (ui *UI) endpointsRun(w http.ResponseWriter, r *http.Request) error {
	l, err := ui.api.RunMonitor(r.Context())
	if err != nil {
		return err
	}
	redirect(w, r, "/endpoints", fmt.Sprintf("Checked %s.", plural(len(l.Items), "endpoint", "endpoints")))
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// endpointData is an endpoint's page view.
type endpointData struct {
	E       *client.Endpoint
	History []client.EndpointResult
	Next    string
	Chart   daysChart
}

func (ui *UI) endpointPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := ui.api.GetEndpoint(r.Context(), id)
	if err != nil {
		return err
	}
	h, err := ui.api.GetEndpointHistory(r.Context(), id, client.Page{After: r.URL.Query().Get("after")})
	if err != nil {
		return err
	}
	d := endpointData{E: e, History: h.Items, Next: h.Next, Chart: daysLeftChart(h.Items)}
	ui.render(w, r, page{name: "endpoint", title: "Endpoint " + e.Address, section: "endpoints", data: d})
	return nil
}

func (ui *UI) endpointRun(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	l, err := ui.api.RunMonitor(r.Context(), id)
	if err != nil {
		return err
	}
	msg := "Checked."
	if len(l.Items) == 1 {
		msg = "Checked: " + l.Items[0].Status + "."
	}
	redirect(w, r, fmt.Sprintf("/endpoints/%d", id), msg)
	return nil
}

func (ui *UI) endpointRemove(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := ui.api.RemoveEndpoint(r.Context(), id); err != nil {
		return err
	}
	redirect(w, r, "/endpoints", fmt.Sprintf("Endpoint #%d is no longer monitored.", id))
	return nil
}
