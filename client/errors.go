package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Problem is an RFC 9457 problem document, the body of every error
// response.
type Problem struct {
	// Type is a URI naming the kind of problem; "about:blank" means the
	// status says it all.
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	// Detail is one line saying what went wrong.
	Detail string `json:"detail,omitempty"`
	// Errors name the request fields or parameters that were refused.
	Errors []FieldProblem `json:"errors,omitempty"`
}

// FieldProblem is bad input in one field (a JSON name such as "sans" or
// "subject.c") or query parameter.
type FieldProblem struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
	// Rule names the issuance policy rule that refused the request
	// ("dns_domain", "wildcard", "max_names", ...; see docs/ca.md), when
	// one did.
	Rule string `json:"rule,omitempty"`
}

// Error is an error response of the API.
type Error struct {
	Problem Problem
}

// Error returns one line: "certkeeper: STATUS TITLE: DETAIL".
func (e *Error) Error() string {
	s := fmt.Sprintf("certkeeper: %d %s", e.Problem.Status, e.Problem.Title)
	if e.Problem.Detail != "" {
		s += ": " + e.Problem.Detail
	}
	return strings.ReplaceAll(s, "\n", " ")
}

// newError reads a problem document, or makes one from a body that is
// not one (a proxy's error page).
func newError(resp *http.Response, body []byte) *Error {
	e := &Error{}
	if json.Unmarshal(body, &e.Problem) != nil || e.Problem.Status == 0 {
		detail := strings.TrimSpace(string(body))
		if len(detail) > 200 {
			detail = detail[:200] + "..."
		}
		e.Problem = Problem{Type: "about:blank", Status: resp.StatusCode, Detail: detail}
	}
	if e.Problem.Title == "" {
		e.Problem.Title = http.StatusText(e.Problem.Status)
	}
	return e
}

// notFound is the error of a lookup by name that found nothing: a 404
// made by the client, so that IsNotFound reports it as it does the
// server's.
func notFound(format string, args ...any) *Error {
	return &Error{Problem: Problem{Type: "about:blank", Title: http.StatusText(http.StatusNotFound),
		Status: http.StatusNotFound, Detail: fmt.Sprintf(format, args...)}}
}

// StatusCode returns the HTTP status of an *Error in err's chain, or 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Problem.Status
	}
	return 0
}

// IsNotFound reports whether err is a 404 response.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// IsConflict reports whether err is a 409 response (a name in use, or an
// object in a state that refuses the operation).
func IsConflict(err error) bool { return StatusCode(err) == http.StatusConflict }

// IsUnauthorized reports whether err is a 401 response: no, an unknown,
// an expired or a disabled user's token.
func IsUnauthorized(err error) bool { return StatusCode(err) == http.StatusUnauthorized }

// IsForbidden reports whether err is a 403 response: the route needs the
// admin role.
func IsForbidden(err error) bool { return StatusCode(err) == http.StatusForbidden }

// IsInvalid reports whether err is a 400 or 422 response: the request was
// malformed or refused by a validation rule.
func IsInvalid(err error) bool {
	s := StatusCode(err)
	return s == http.StatusBadRequest || s == http.StatusUnprocessableEntity
}

// IsPreconditionFailed reports whether err is a 412 response: the object
// changed since its version was read.
func IsPreconditionFailed(err error) bool { return StatusCode(err) == http.StatusPreconditionFailed }
