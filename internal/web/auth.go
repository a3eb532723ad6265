package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/certkeeper/certkeeper/internal/api"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/users"
)

// sessionCookie holds the session secret. The __Host- prefix makes the
// browser insist on Secure, Path=/ and no Domain.
const sessionCookie = "__Host-certkeeper"

// session is the signed-in user of a request.
type session struct {
	user   *inventory.User
	id     int64
	secret string
	csrf   string
}

type sessionKey struct{}

func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(sessionKey{}).(*session)
	return s
}

// withSession returns r acting as s's user, for the pages and for the
// API calls they make.
func withSession(r *http.Request, s *session) *http.Request {
	ctx := context.WithValue(r.Context(), sessionKey{}, s)
	return r.WithContext(api.WithUser(ctx, s.user))
}

// load finds the request's session; nil when it has none.
func (ui *UI) load(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	u, sess, err := ui.Users.Session(r.Context(), c.Value)
	if errors.Is(err, users.ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &session{user: u, id: sess.ID, secret: c.Value, csrf: users.CSRFToken(c.Value)}, nil
}

// guard is the one adapter every page goes through: a session (or a
// redirect to sign-in), the forced password change, the page's role, and
// the anti-forgery token on every state-changing request.
func (ui *UI) guard(p route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := ui.load(r)
		if err != nil {
			ui.fail(w, r, err)
			return
		}
		if s == nil {
			if r.Method != http.MethodGet {
				http.Error(w, "not signed in, or the session has ended", http.StatusUnauthorized)
				return
			}
			redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), "")
			return
		}
		r = withSession(r, s)
		if s.user.MustChangePassword && r.URL.Path != "/account/password" {
			redirect(w, r, "/account/password", "Choose a new password before going on.")
			return
		}
		if p.role == inventory.RoleAdmin && s.user.Role != inventory.RoleAdmin {
			ui.forbidden(w, r)
			return
		}
		if !safeMethod(r.Method) && !users.CheckCSRF(s.secret, csrfToken(r)) {
			http.Error(w, "the form has expired or did not come from this site; reload the page and try again", http.StatusForbidden)
			return
		}
		if err := p.handle(w, r); err != nil {
			ui.fail(w, r, err)
		}
	})
}

func (ui *UI) forbidden(w http.ResponseWriter, r *http.Request) {
	ui.render(w, r, page{name: "error", title: "Not allowed", status: http.StatusForbidden,
		data: errorData{Status: http.StatusForbidden, Message: "This page needs the admin role."}})
}

func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// csrfToken is the token a request sends: the X-CSRF-Token header (htmx)
// or the csrf form field.
func csrfToken(r *http.Request) string {
	if t := r.Header.Get("X-CSRF-Token"); t != "" {
		return t
	}
	return r.PostFormValue("csrf")
}

// loginData fills the sign-in page.
type loginData struct {
	Username string
	Next     string
	CA       bool
}

func (ui *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	if s, err := ui.load(r); err == nil && s != nil {
		redirect(w, r, "/", "")
		return
	}
	ui.render(w, r, page{name: "login", title: "Sign in",
		data: loginData{Next: localPath(r.URL.Query().Get("next")), CA: ui.CACertificate != nil}})
}

// login checks the password and starts a session with a new id (the
// browser's old cookie, if any, is never reused). Every refusal reads the
// same whether the username exists or not.
func (ui *UI) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	username, password := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("password")
	next := localPath(r.PostFormValue("next"))
	u, secret, err := ui.Users.Login(r.Context(), username, password, clientAddr(r), r.UserAgent())
	if err != nil {
		ui.loginRefused(w, r, username, next, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
	if u.MustChangePassword {
		redirect(w, r, "/account/password", "Welcome. Choose your own password before going on.")
		return
	}
	redirect(w, r, next, "")
}

// loginRefused answers a refused sign-in: 401 for wrong credentials, 429
// with Retry-After while the address is backed off or every hashing slot
// is taken.
func (ui *UI) loginRefused(w http.ResponseWriter, r *http.Request, username, next string, err error) {
	status, msg := http.StatusUnauthorized, "Wrong username or password."
	var be *users.BackoffError
	switch {
	case errors.As(err, &be):
		status, msg = http.StatusTooManyRequests, "Too many failed sign-ins from your address. Wait "+
			be.RetryAfter()+" seconds and try again, or ask an admin to unlock your user."
		w.Header().Set("Retry-After", be.RetryAfter())
	case errors.Is(err, users.ErrBusy):
		status, msg = http.StatusTooManyRequests, "The server is busy with other sign-ins. Try again in a moment."
		w.Header().Set("Retry-After", strconv.Itoa(int(users.BusyRetryAfter/time.Second)))
	case !errors.Is(err, users.ErrInvalidCredentials):
		ui.fail(w, r, err)
		return
	}
	// The typed name is not logged: it may be a password typed into the
	// wrong field. Failures of known users are in the audit trail.
	ui.Log.Warn("sign-in refused", "addr", clientAddr(r), "reason", err)
	ui.render(w, r, page{name: "login", title: "Sign in", status: status, err: msg,
		data: loginData{Username: username, Next: next, CA: ui.CACertificate != nil}})
}

// logout ends the session. It needs the anti-forgery token like any other
// change, so another site cannot sign people out.
func (ui *UI) logout(w http.ResponseWriter, r *http.Request) error {
	s := sessionOf(r)
	if err := ui.Users.Logout(r.Context(), s.secret); err != nil {
		return err
	}
	clearSession(w)
	redirect(w, r, "/login", "Signed out.")
	return nil
}

func clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, Secure: true, HttpOnly: true,
		SameSite: http.SameSiteStrictMode})
}

// passwordPage shows the change-password form.
func (ui *UI) passwordPage(w http.ResponseWriter, r *http.Request) error {
	ui.render(w, r, page{name: "password", title: "Change password", section: "account",
		data: sessionOf(r).user.MustChangePassword})
	return nil
}

// changePassword sets a new password, ends the user's other sessions and
// deletes the first-start password file once its user has chosen their own.
func (ui *UI) changePassword(w http.ResponseWriter, r *http.Request) error {
	s := sessionOf(r)
	current, next, again := r.PostFormValue("current"), r.PostFormValue("password"), r.PostFormValue("again")
	refuse := func(msg string, fields map[string]string) error {
		ui.render(w, r, page{name: "password", title: "Change password", section: "account", status: http.StatusUnprocessableEntity,
			err: msg, fields: fields, data: s.user.MustChangePassword})
		return nil
	}
	if next != again {
		return refuse("The two new passwords differ.", map[string]string{"again": "does not match"})
	}
	first := s.user.MustChangePassword
	err := ui.Users.ChangePassword(r.Context(), s.user, current, next, s.id)
	var fe *inventory.FieldError
	if errors.As(err, &fe) {
		return refuse(strings.TrimPrefix(err.Error(), "users: "), map[string]string{fe.Field: fe.Reason})
	}
	if err != nil {
		return err
	}
	if first && ui.InitialPasswordFile != "" {
		if err := os.Remove(ui.InitialPasswordFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			ui.Log.Warn("could not delete the first-start password file", "file", ui.InitialPasswordFile, "err", err)
		}
	}
	redirect(w, r, "/", "Password changed. Your other sessions were signed out.")
	return nil
}

// logoutEverywhere ends every session of the signed-in user, this one too.
func (ui *UI) logoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	s := sessionOf(r)
	if _, err := ui.Users.LogoutEverywhere(r.Context(), "user:"+s.user.Username, s.user); err != nil {
		return err
	}
	clearSession(w)
	redirect(w, r, "/login", "Signed out everywhere.")
	return nil
}

// localPath keeps a post-sign-in target on this site: a path with one
// leading "/" and no scheme, host or user, with no backslash (browsers
// read "/\\host" as "//host"), no control character (browsers drop tabs
// and newlines, so "/\t/host" would become "//host") and valid UTF-8;
// anything else is "/".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsRune(p, '\\') ||
		!utf8.ValidString(p) || strings.ContainsFunc(p, unicode.IsControl) {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return p
}

// caCertificate serves the default CA's chain for browsers to trust.
func (ui *UI) caCertificate(w http.ResponseWriter, r *http.Request) {
	pemBytes, err := ui.CACertificate(r.Context())
	if err != nil {
		ui.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Disposition", `attachment; filename="certkeeper-ca.pem"`)
	_, _ = w.Write(pemBytes)
}
