package api

import (
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/client"
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
	list, next, err := a.Store.ListAudit(r.Context(), since, p)
	if err != nil {
		return err
	}
	out := client.AuditList{Items: make([]client.AuditEvent, len(list)), Next: next}
	for i := range list {
		out.Items[i] = auditOut(&list[i])
	}
	return ok(w, out)
}

// listCAs lists the CAs with their certificate's expiry.
func (a *API) listCAs(w http.ResponseWriter, r *http.Request) error {
	cas, err := a.Store.ListCAs(r.Context())
	if err != nil && !isNotFound(err) {
		return err
	}
	out := client.CAList{Items: make([]client.CA, len(cas))}
	for i, c := range cas {
		out.Items[i] = client.CA{ID: c.ID, Name: c.Name, Status: string(c.Status), Default: c.Default,
			CertificateID: c.CertificateID}
		if c.CertificateID == 0 {
			continue
		}
		cert, err := a.Store.GetCertificate(r.Context(), c.CertificateID)
		if err != nil {
			return err
		}
		na := cert.NotAfter.UTC()
		out.Items[i].NotAfter = &na
	}
	return ok(w, out)
}
