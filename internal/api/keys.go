package api

import (
	"errors"
	"net/http"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/export"
)

func (a *API) listKeys(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	list, next, err := a.Keys.List(r.Context(), p)
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
	k, u, err := a.Keys.Get(r.Context(), id)
	if err != nil {
		return missing(err, "key", id)
	}
	out := keyOut(k)
	out.Usage = &client.KeyUsage{Certificates: u.Certificates, Acquisitions: u.Acquisitions}
	return ok(w, out)
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
	f, err := a.Export.Key(r.Context(), actor(r), id,
		export.KeyRequest{Format: in.Format, Password: []byte(in.Password), CertificateID: in.CertificateID})
	var nf *export.NotFoundError
	if errors.As(err, &nf) {
		return missing(err, nf.Kind, nf.ID)
	}
	if err != nil {
		return err
	}
	return writeFile(w, "application/octet-stream", f.Name, f.Data)
}
