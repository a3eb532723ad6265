package web

import (
	"bytes"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/users"
)

//go:embed templates
var templateFS embed.FS

// view is what every page template receives.
type view struct {
	Title string
	// Section is the navigation entry to highlight.
	Section string
	User    *inventory.User
	CSRF    string
	Flash   string
	// Error is a message shown above the page's content (a refused form).
	Error string
	// Fields are field errors of a refused form, by field name.
	Fields map[string]string
	Data   any
	Now    time.Time
	// Path and Query are the request's, for links that keep filters.
	Path  string
	Query url.Values
}

// IsAdmin reports whether the signed-in user is an admin.
func (v *view) IsAdmin() bool { return v.User != nil && v.User.Role == inventory.RoleAdmin }

// parseTemplates parses each page under templates/pages with the layout
// and the shared partials, keyed by page name (file name without .html).
func parseTemplates() (map[string]*template.Template, error) {
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	pages := make(map[string]*template.Template, len(files))
	for _, f := range files {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return pages, nil
}

// page is a page to render: its template name, title, navigation section
// and data.
type page struct {
	name, title, section string
	data                 any
	status               int
	err                  string
	fields               map[string]string
}

// render writes a page: the whole layout, or, for an htmx request that
// targets the page's "results" block, that block alone.
func (ui *UI) render(w http.ResponseWriter, r *http.Request, p page) {
	t, ok := ui.pages[p.name]
	if !ok {
		ui.fail(w, r, fmt.Errorf("web: no template %q", p.name))
		return
	}
	v := ui.view(r, p.title, p.data)
	v.Section, v.Error, v.Fields, v.Query = p.section, p.err, p.fields, r.URL.Query()
	v.Flash = takeFlash(w, r)
	name := "layout"
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Target") == "results" && t.Lookup("results") != nil {
		name = "results"
	}
	if err := write(w, t, name, v, p.status); err != nil {
		ui.fail(w, r, fmt.Errorf("web: render %s: %w", p.name, err))
	}
}

// view is the data every template gets, with the signed-in user.
func (ui *UI) view(r *http.Request, title string, data any) *view {
	v := &view{Title: title, Data: data, Now: ui.Now().UTC(), Path: r.URL.Path}
	if s := sessionOf(r); s != nil {
		v.User, v.CSRF = s.user, s.csrf
	}
	return v
}

// write executes template name into a buffer, so that a failing template
// sends nothing, then sends the page with status (0: 200).
func write(w http.ResponseWriter, t *template.Template, name string, v *view, status int) error {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if status != 0 {
		w.WriteHeader(status)
	}
	_, _ = buf.WriteTo(w)
	return nil
}

// fail answers an error that the page could not handle: the API's refusal
// (403, 404, 409, 422...) as an error page with its one-line reason,
// anything else as a 500 that is logged and not shown.
func (ui *UI) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on the server; the error was logged."
	var ce *client.Error
	switch {
	case errors.As(err, &ce) && ce.Problem.Status < 500:
		status, msg = ce.Problem.Status, problemText(ce)
	case errors.Is(err, users.ErrBusy):
		status, msg = http.StatusTooManyRequests, "The server is busy checking other passwords. Try again in a moment."
		w.Header().Set("Retry-After", strconv.Itoa(int(users.BusyRetryAfter/time.Second)))
	case errors.As(err, &ce):
		ui.Log.Error("web: api error", "path", r.URL.Path, "err", err)
	default:
		ui.Log.Error("web: error", "path", r.URL.Path, "err", err)
	}
	t := ui.pages["error"]
	if t == nil || write(w, t, "layout", ui.view(r, http.StatusText(status), errorData{Status: status, Message: msg}), status) != nil {
		http.Error(w, msg, status)
	}
}

type errorData struct {
	Status  int
	Message string
}

// problemText is the message of an API refusal, for people.
func problemText(e *client.Error) string {
	p := e.Problem
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	for _, f := range p.Errors {
		if !strings.Contains(msg, f.Detail) {
			msg += "; " + f.Field + ": " + f.Detail
		}
	}
	return msg
}

// formError turns an API refusal of a form into the message and field
// errors to show with the form again; ok is false for other errors.
func formError(err error) (msg string, fields map[string]string, ok bool) {
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Problem.Status >= 500 || ce.Problem.Status == http.StatusForbidden ||
		ce.Problem.Status == http.StatusNotFound {
		return "", nil, false
	}
	fields = map[string]string{}
	for _, f := range ce.Problem.Errors {
		fields[f.Field] = f.Detail
	}
	return problemText(ce), fields, true
}

// flashCookie carries a one-line message to the page after a redirect.
const flashCookie = "certkeeper_flash"

// redirect sends the browser to target (a local path) with a message to
// show there. htmx requests get HX-Redirect so the whole page changes.
func redirect(w http.ResponseWriter, r *http.Request, target, message string) {
	if message != "" {
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(message)),
			Path: "/", MaxAge: 60, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// takeFlash returns the pending message and clears it.
func takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) > 500 {
		return ""
	}
	return string(b)
}
