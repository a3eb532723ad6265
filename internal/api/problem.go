package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/definitions"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/users"
)

// statusError is an error answered with a fixed status (400, 401, 403,
// 412, 428 ...). Field names the parameter or field at fault, if any.
type statusError struct {
	status int
	field  string
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// badRequest reports a malformed request (400), naming the parameter or
// field at fault when field is not "".
func badRequest(field, format string, args ...any) error {
	return &statusError{status: http.StatusBadRequest, field: field, err: fmt.Errorf(format, args...)}
}

// problemOf maps err to an RFC 9457 problem document (RFC 9457 section
// 3.1 members; "errors" is the extension member naming refused fields).
// The second result says whether err is unexpected (500).
func problemOf(err error) (client.Problem, bool) {
	p := client.Problem{Type: "about:blank", Detail: oneLine(err.Error())}
	var se *statusError
	var fe *inventory.FieldError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		p.Status = se.status
		if se.field != "" {
			p.Errors = []client.FieldProblem{{Field: se.field, Detail: p.Detail}}
		}
	case errors.As(err, &mb), errors.Is(err, definitions.ErrTooLarge), errors.Is(err, format.ErrTooLarge):
		p.Status = http.StatusRequestEntityTooLarge
	case errors.Is(err, users.ErrBusy):
		p.Status = http.StatusTooManyRequests
	case errors.Is(err, inventory.ErrBadCursor):
		p.Status, p.Errors = http.StatusBadRequest, []client.FieldProblem{{Field: "after", Detail: p.Detail}}
	case errors.As(err, &fe):
		p.Status, p.Errors = http.StatusUnprocessableEntity, []client.FieldProblem{{Field: fe.Field, Detail: fe.Reason}}
		var pe *ca.PolicyError
		if errors.As(err, &pe) {
			p.Errors[0].Rule = pe.Rule
		}
	case errors.Is(err, inventory.ErrInvalid):
		p.Status = http.StatusUnprocessableEntity
	case errors.Is(err, inventory.ErrNotFound):
		p.Status = http.StatusNotFound
	case errors.Is(err, inventory.ErrConflict), errors.Is(err, inventory.ErrState):
		p.Status = http.StatusConflict
	default:
		p.Status, p.Detail = http.StatusInternalServerError, "internal error; the server log has the details"
		p.Title = http.StatusText(p.Status)
		return p, true
	}
	if p.Status == http.StatusRequestEntityTooLarge && mb != nil {
		p.Detail = fmt.Sprintf("request body larger than %d bytes", mb.Limit)
	}
	p.Title = http.StatusText(p.Status)
	return p, false
}

// problem writes err as a problem document, logging unexpected errors
// (the log gets the error text, which never holds a secret).
func (a *API) problem(w http.ResponseWriter, r *http.Request, err error) {
	p, unexpected := problemOf(err)
	if unexpected {
		a.Log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p client.Problem) {
	h := w.Header()
	h.Del("Content-Disposition")
	h.Del("ETag")
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	if p.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="certkeeper"`)
	}
	if p.Status == http.StatusTooManyRequests {
		h.Set("Retry-After", strconv.Itoa(int(users.BusyRetryAfter/time.Second)))
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// notFound answers paths under /api/ that match no route.
func (a *API) notFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, client.Problem{Type: "about:blank", Title: http.StatusText(http.StatusNotFound),
		Status: http.StatusNotFound, Detail: noRoute + r.Method + " " + r.URL.Path})
}

// noRoute starts the detail of a request that matches no route.
const noRoute = "no API route for "

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
