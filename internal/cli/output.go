package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

// withAPI runs f with the API client (the server given by --server, or
// the local data directory in process) and turns an API error into one
// readable line.
func (a *app) withAPI(cmd *cobra.Command, f func(ctx context.Context, c *client.Client) error) error {
	c, err := a.client(cmd.Context())
	if err != nil {
		return err
	}
	return apiError(f(cmd.Context(), c))
}

// apiProblem is an API error response worded for the command line: the
// server's one-line detail, or for refused input "FIELD: REASON", with
// the status where it says more than the detail does.
type apiProblem struct {
	msg string
	err *client.Error
}

func (e *apiProblem) Error() string { return e.msg }
func (e *apiProblem) Unwrap() error { return e.err }

// apiError rewords a *client.Error in err's chain; other errors pass.
func apiError(err error) error {
	var ce *client.Error
	if !errors.As(err, &ce) {
		return err
	}
	p := ce.Problem
	detail := strings.TrimPrefix(p.Detail, "api: ")
	if detail == "" {
		detail = strings.ToLower(p.Title)
	}
	var msg string
	switch {
	case p.Status == http.StatusUnauthorized:
		msg = fmt.Sprintf("the server refused the API token (401): %s; make a new one with \"certkeeper token create\"", detail)
	case p.Status == http.StatusForbidden:
		msg = fmt.Sprintf("forbidden (403): %s", detail)
	case p.Status >= 500:
		msg = fmt.Sprintf("server error (%d %s): %s", p.Status, p.Title, detail)
	case len(p.Errors) > 0:
		parts := make([]string, len(p.Errors))
		for i, fe := range p.Errors {
			parts[i] = fe.Detail
			if !strings.HasPrefix(fe.Detail, fe.Field) {
				parts[i] = fe.Field + ": " + fe.Detail
			}
		}
		msg = strings.Join(parts, "; ")
	default:
		msg = detail
	}
	return &apiProblem{msg: strings.Join(strings.Fields(msg), " "), err: ce}
}

// parseObjectID reads the ID of an object of kind what ("acquisition",
// "key", ...) from the command line.
func parseObjectID(what, s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not a valid %s ID (a positive number)", s, what)
	}
	return id, nil
}

// stamp formats a time to the minute, in UTC.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

// orDash returns s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
