package api

import (
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/audit"
)

func (a *API) listAudit(w http.ResponseWriter, r *http.Request) error {
	var since time.Time
	if s := r.URL.Query().Get("since"); s != "" {
		var err error
		if since, err = time.Parse(time.RFC3339, s); err != nil {
			return badRequest("since", "since %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", s)
		}
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	order := audit.Oldest
	switch o := r.URL.Query().Get("order"); o {
	case "", "oldest":
	case "newest":
		order = audit.Newest
	default:
		return badRequest("order", "order %q: want oldest or newest", o)
	}
	events, next, err := a.Audit.List(r.Context(), since, order, p)
	if err != nil {
		return err
	}
	out := client.AuditList{Items: make([]client.AuditEvent, len(events)), Next: next}
	for i := range events {
		out.Items[i] = auditOut(&events[i])
	}
	return ok(w, out)
}
