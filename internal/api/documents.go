package api

import (
	"errors"
	"io"
	"net/http"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func documentOut(d *inventory.Document) client.Document {
	return client.Document{Name: d.Name, Size: d.Size, CreatedAt: d.CreatedAt.UTC()}
}

func (a *API) listDocuments(w http.ResponseWriter, r *http.Request) error {
	d, err := a.definition(r)
	if err != nil {
		return err
	}
	docs, err := a.Definitions.Documents(r.Context(), d.Name)
	if err != nil {
		return err
	}
	out := client.DocumentList{Items: make([]client.Document, len(docs))}
	for i := range docs {
		out.Items[i] = documentOut(&docs[i])
	}
	return ok(w, out)
}

func (a *API) getDocument(w http.ResponseWriter, r *http.Request) error {
	d, err := a.definition(r)
	if err != nil {
		return err
	}
	doc, err := a.Definitions.Document(r.Context(), d.Name, r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeFile(w, "application/octet-stream", doc.Name, doc.Content)
}

// putDocument stores the raw body as a document, replacing one of the
// same name (201 when new, 200 when replaced).
func (a *API) putDocument(w http.ResponseWriter, r *http.Request) error {
	d, err := a.definition(r)
	if err != nil {
		return err
	}
	content, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	name, code := r.PathValue("name"), http.StatusCreated
	doc, err := a.Definitions.AddDocument(r.Context(), actor(r), d.Name, name, content)
	if errors.Is(err, inventory.ErrConflict) {
		if err = a.Definitions.DeleteDocument(r.Context(), actor(r), d.Name, name); err == nil {
			doc, err = a.Definitions.AddDocument(r.Context(), actor(r), d.Name, name, content)
		}
		code = http.StatusOK
	}
	if err != nil {
		return err
	}
	return writeJSON(w, code, documentOut(doc))
}

func (a *API) deleteDocument(w http.ResponseWriter, r *http.Request) error {
	d, err := a.definition(r)
	if err != nil {
		return err
	}
	if err := a.Definitions.DeleteDocument(r.Context(), actor(r), d.Name, r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
