package api

import (
	"context"
	"net/http"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/export"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func (a *API) listKeys(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	list, next, err := a.Store.ListKeys(r.Context(), p)
	if err != nil {
		return err
	}
	out := client.KeyList{Items: make([]client.Key, len(list)), Next: next}
	for i := range list {
		out.Items[i] = keyOut(&list[i])
	}
	return ok(w, out)
}

func (a *API) getKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	k, err := a.Store.GetKey(r.Context(), id)
	if err != nil {
		return missing(err, "key", id)
	}
	out := keyOut(k)
	if out.Usage, err = a.keyUsage(r.Context(), id); err != nil {
		return err
	}
	return ok(w, out)
}

// keyUsage lists the first page of certificates and acquisitions using
// key id.
func (a *API) keyUsage(ctx context.Context, id int64) (*client.KeyUsage, error) {
	u := &client.KeyUsage{Certificates: []int64{}, Acquisitions: []int64{}}
	certs, err := a.Store.ListCertificates(ctx, inventory.CertificateFilter{KeyID: id}, inventory.Page{})
	if err != nil {
		return nil, err
	}
	for _, c := range certs.Items {
		u.Certificates = append(u.Certificates, c.ID)
	}
	acqs, err := a.Store.ListAcquisitions(ctx, inventory.AcquisitionFilter{KeyID: id}, inventory.Page{})
	if err != nil {
		return nil, err
	}
	for _, q := range acqs.Items {
		u.Acquisitions = append(u.Acquisitions, q.ID)
	}
	return u, nil
}

// exportKey writes a private key file; the export service audits it.
func (a *API) exportKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in client.KeyExport
	if err := decode(r, &in); err != nil {
		return err
	}
	f, err := a.exporter.Key(r.Context(), actor(r), id,
		export.KeyRequest{Format: in.Format, Password: []byte(in.Password), CertificateID: in.CertificateID})
	if err != nil {
		return err
	}
	return writeFile(w, "application/octet-stream", f.Name, f.Data)
}
