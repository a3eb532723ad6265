package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// decode reads the JSON body into v: unknown fields, wrong types, trailing
// data and a missing body are 400; a body over the route's limit is 413.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON value")
	}
	var mb *http.MaxBytesError
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &mb):
		return err
	case errors.Is(err, io.EOF):
		return badRequest("", "the request needs a JSON body")
	case errors.As(err, &te):
		return badRequest(te.Field, "field %q: want a JSON %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	return badRequest("", "malformed JSON body: %s", oneLine(err.Error()))
}

// jsonKind names a Go kind as JSON does.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return "number"
}

// writeJSON writes v with status code.
func writeJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	return json.NewEncoder(w).Encode(v)
}

// ok writes v with status 200.
func ok(w http.ResponseWriter, v any) error { return writeJSON(w, http.StatusOK, v) }

// writeFile writes a download.
func writeFile(w http.ResponseWriter, contentType, filename string, data []byte) error {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	if filename != "" {
		h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filename))
	}
	_, err := w.Write(data)
	return err
}

// pathID reads the numeric path value {id}.
func pathID(r *http.Request) (int64, error) {
	return positive(r.PathValue("id"), "id")
}

func positive(s, name string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, badRequest(name, "%s %q: want a positive integer", name, s)
	}
	return n, nil
}

// queryID reads an optional positive integer query parameter; 0 when
// absent.
func queryID(r *http.Request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	return positive(s, name)
}

// queryInt reads an optional non-negative integer query parameter.
func queryInt(r *http.Request, name string) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, badRequest(name, "%s %q: want a non-negative integer", name, s)
	}
	return n, nil
}

// queryBool reads an optional boolean query parameter; nil when absent.
func queryBool(r *http.Request, name string) (*bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, badRequest(name, "%s %q: want true or false", name, s)
	}
	return &b, nil
}

// page reads ?limit=N&after=CURSOR.
func page(r *http.Request) (inventory.Page, error) {
	n, err := queryInt(r, "limit")
	if err != nil {
		return inventory.Page{}, err
	}
	if n > inventory.MaxPageSize {
		return inventory.Page{}, badRequest("limit", "limit %d: want 1 to %d", n, inventory.MaxPageSize)
	}
	return inventory.Page{Limit: n, After: r.URL.Query().Get("after")}, nil
}

// notFound wraps a store's ErrNotFound with the kind and ID asked for, so
// that the problem detail says what is missing.
func missing(err error, kind string, id int64) error {
	if errors.Is(err, inventory.ErrNotFound) {
		return fmt.Errorf("api: no %s %d: %w", kind, id, inventory.ErrNotFound)
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, inventory.ErrNotFound) }

// decodeOptional is decode for a body that may be absent.
func decodeOptional(r *http.Request, v any) error {
	if r.ContentLength == 0 {
		return nil
	}
	return decode(r, v)
}
