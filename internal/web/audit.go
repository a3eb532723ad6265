package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/client"
)

// The audit log screen: events newest first, filtered by a start date.
func (ui *UI) auditRoutes() []route {
	return []route{
		{"GET", "/audit", user, ui.auditLog},
	}
}

// auditPageSize is how many events a page of the audit log shows.
const auditPageSize = 50

// admAuditData fills the audit log.
type admAuditData struct {
	Since string
	Items []client.AuditEvent
	// Next is the cursor of the following (older) page.
	Next string
}

func (ui *UI) auditLog(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d := admAuditData{Since: strings.TrimSpace(q.Get("since"))}
	p := page{name: "audit", title: "Audit log", section: "audit", data: &d}
	var since time.Time
	if d.Since != "" {
		t, err := time.Parse("2006-01-02", d.Since)
		if err != nil {
			p.err, p.fields = "The date is not right.", map[string]string{"since": "enter a date as YYYY-MM-DD"}
			if r.Header.Get("HX-Request") != "true" {
				p.status = http.StatusUnprocessableEntity
			}
			ui.render(w, r, p)
			return nil
		}
		since = t
	}
	list, err := ui.api.ListAudit(r.Context(), client.AuditQuery{Since: since, Newest: true,
		Page: client.Page{Limit: auditPageSize, After: q.Get("after")}})
	if err != nil {
		return err
	}
	d.Items, d.Next = list.Items, list.Next
	ui.render(w, r, p)
	return nil
}
