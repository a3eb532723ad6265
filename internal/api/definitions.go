package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/catalogue"
	"github.com/certkeeper/certkeeper/internal/definitions"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func (a *API) listDefinitions(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	if name := r.URL.Query().Get("name"); name != "" {
		return a.definitionNamed(w, r, name)
	}
	f := inventory.DefinitionFilter{Label: r.URL.Query().Get("label"), Text: r.URL.Query().Get("q")}
	res, err := a.Definitions.List(r.Context(), f, p)
	if err != nil {
		return err
	}
	return ok(w, definitionList(res))
}

// definitionNamed lists the definition called name, if there is one.
func (a *API) definitionNamed(w http.ResponseWriter, r *http.Request, name string) error {
	d, err := a.Definitions.Get(r.Context(), name)
	if isNotFound(err) {
		return ok(w, client.DefinitionList{Items: []client.Definition{}})
	}
	if err != nil {
		return err
	}
	return ok(w, client.DefinitionList{Items: []client.Definition{definitionOut(d)}})
}

func (a *API) createDefinition(w http.ResponseWriter, r *http.Request) error {
	var in client.Definition
	if err := decode(r, &in); err != nil {
		return err
	}
	d := &inventory.Definition{}
	definitionIn(&in, d)
	if err := a.Definitions.Create(r.Context(), actor(r), d); err != nil {
		return err
	}
	return writeDefinition(w, http.StatusCreated, d)
}

// writeDefinition writes d with its version as ETag.
func writeDefinition(w http.ResponseWriter, code int, d *inventory.Definition) error {
	w.Header().Set("ETag", etag(d.Version))
	return writeJSON(w, code, definitionOut(d))
}

// etag is a definition version as a strong entity tag (RFC 9110 section
// 8.8.3).
func etag(version int64) string { return strconv.Quote(strconv.FormatInt(version, 10)) }

// definition loads the definition of the path's {id}.
func (a *API) definition(r *http.Request) (*inventory.Definition, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	d, err := a.Definitions.ByID(r.Context(), id)
	return d, missing(err, "definition", id)
}

func (a *API) getDefinition(w http.ResponseWriter, r *http.Request) error {
	d, err := a.definition(r)
	if err != nil {
		return err
	}
	return writeDefinition(w, http.StatusOK, d)
}

// updateDefinition replaces a definition under optimistic concurrency:
// If-Match must carry the version read (RFC 9110 section 13.1.1); none
// is 428 (RFC 6585 section 3), another version 412.
func (a *API) updateDefinition(w http.ResponseWriter, r *http.Request) error {
	version, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	cur, err := a.definition(r)
	if err != nil {
		return err
	}
	if cur.Version != version {
		return stale(cur.Version, version)
	}
	var in client.Definition
	if err := decode(r, &in); err != nil {
		return err
	}
	d := *cur
	definitionIn(&in, &d)
	if err := a.Definitions.Update(r.Context(), actor(r), &d); err != nil {
		return updateError(err, version)
	}
	return writeDefinition(w, http.StatusOK, &d)
}

// updateError turns a conflict caused by a concurrent change into 412.
func updateError(err error, version int64) error {
	var se *definitions.StaleError
	if errors.As(err, &se) {
		return stale(se.Version, version)
	}
	return err
}

func stale(have, sent int64) error {
	return &statusError{status: http.StatusPreconditionFailed,
		err: fmt.Errorf("api: the definition changed meanwhile (version %d, If-Match %d): reload it and try again", have, sent)}
}

// ifMatchVersion reads If-Match: "VERSION".
func ifMatchVersion(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, &statusError{status: http.StatusPreconditionRequired, field: "If-Match",
			err: errors.New(`api: send If-Match: "VERSION" with the version the definition was read at`)}
	}
	v, err := strconv.Unquote(h)
	n, perr := strconv.ParseInt(v, 10, 64)
	if err != nil || perr != nil {
		return 0, badRequest("If-Match", `If-Match %s: want a definition ETag, "VERSION"`, h)
	}
	return n, nil
}

func (a *API) cloneDefinition(w http.ResponseWriter, r *http.Request) error {
	src, err := a.definition(r)
	if err != nil {
		return err
	}
	var in client.DefinitionClone
	if err := decode(r, &in); err != nil {
		return err
	}
	d, err := a.Definitions.Clone(r.Context(), actor(r), src.Name, in.Name, cloneChanges(&in))
	if err != nil {
		return err
	}
	return writeDefinition(w, http.StatusCreated, d)
}

// cloneChanges applies the fields a clone request sets.
func cloneChanges(in *client.DefinitionClone) func(*inventory.Definition) {
	return func(d *inventory.Definition) {
		if in.Subject != nil {
			d.Subject = inventory.Subject(*in.Subject)
		}
		if in.Requirements != nil {
			d.Requirements = inventory.Requirements(*in.Requirements)
		}
		if in.Renewal != nil {
			d.Renewal = inventory.Renewal(*in.Renewal)
		}
		if in.Notes != nil {
			d.Notes = *in.Notes
		}
		if in.KeyType != "" {
			d.KeyType = in.KeyType
		}
		for _, l := range []struct{ dst, src *[]string }{{&d.SANs, &in.SANs}, {&d.Targets, &in.Targets}, {&d.Labels, &in.Labels}} {
			if *l.src != nil {
				*l.dst = *l.src
			}
		}
	}
}

func (a *API) importDefinition(w http.ResponseWriter, r *http.Request) error {
	var in client.DefinitionImport
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.CertificateID <= 0 {
		return inventory.Invalid("certificate_id", "give the ID of a stored certificate")
	}
	imp, err := a.Definitions.ImportFromCertificate(r.Context(), actor(r), in.CertificateID, in.Name)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(imp.Definition.Version))
	return writeJSON(w, http.StatusCreated, client.ImportedDefinition{Definition: definitionOut(imp.Definition),
		KeyHeld: imp.KeyHeld})
}

func (a *API) definitionProducts(w http.ResponseWriter, r *http.Request) error {
	d, err := a.definition(r)
	if err != nil {
		return err
	}
	ms, err := a.Catalogue.Select(r.Context(), catalogue.RequirementsOf(d))
	if err != nil {
		return err
	}
	return ok(w, matchesOut(ms))
}
