package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/users"
)

// identityKey is the context key of the acting identity.
type identityKey struct{}

// identity is who a request acts as, and how the audit trail names them.
type identity struct {
	user  *inventory.User
	actor string
}

// WithUser returns a context in which API requests act as u without a
// token; the audit trail names them "user:NAME". It is for trusted
// in-process callers: nothing a network client sends can set it.
func WithUser(ctx context.Context, u *inventory.User) context.Context {
	return context.WithValue(ctx, identityKey{}, identity{user: u, actor: "user:" + u.Username})
}

// WithLocalAdmin returns a context in which API requests act with the
// admin role under the audit name actor (e.g. "cli:alice"). The local
// command line uses it: whoever can read the data directory and the
// master key holds every key anyway.
func WithLocalAdmin(ctx context.Context, actor string) context.Context {
	u := &inventory.User{Username: actor, Role: inventory.RoleAdmin}
	return context.WithValue(ctx, identityKey{}, identity{user: u, actor: actor})
}

func identityOf(ctx context.Context) (identity, bool) {
	id, ok := ctx.Value(identityKey{}).(identity)
	return id, ok && id.user != nil
}

// userOf returns the user the request acts as; wrap guarantees one.
func userOf(r *http.Request) *inventory.User {
	id, _ := identityOf(r.Context())
	return id.user
}

// actor names the request's user in the audit trail.
func actor(r *http.Request) string {
	id, _ := identityOf(r.Context())
	return id.actor
}

// isAdmin reports whether the request's user has the admin role.
func isAdmin(r *http.Request) bool { return userOf(r).Role == inventory.RoleAdmin }

var (
	errNoToken   = errors.New("api: an API token is required (Authorization: Bearer ck_...)")
	errBadToken  = errors.New("api: the API token is unknown, expired or revoked, or its user is disabled")
	errForbidden = errors.New("api: this operation needs the admin role")
)

// authenticate returns r with the acting user in its context: the one a
// trusted caller put there, or the owner of the bearer token.
func (a *API) authenticate(r *http.Request) (*http.Request, error) {
	if _, ok := identityOf(r.Context()); ok {
		return r, nil
	}
	scheme, secret, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return nil, &statusError{status: http.StatusUnauthorized, err: errNoToken}
	}
	u, _, err := a.Users.AuthenticateToken(r.Context(), strings.TrimSpace(secret))
	if errors.Is(err, users.ErrInvalidToken) {
		return nil, &statusError{status: http.StatusUnauthorized, err: errBadToken}
	}
	if err != nil {
		return nil, err
	}
	return r.WithContext(WithUser(r.Context(), u)), nil
}

// authorize checks the route's role: admin routes need an admin, user
// routes any signed-in user.
func authorize(rt route, u *inventory.User) error {
	if rt.role == inventory.RoleAdmin && u.Role != inventory.RoleAdmin {
		return &statusError{status: http.StatusForbidden, err: errForbidden}
	}
	return nil
}

// wrap is the one adapter every route goes through: authentication, the
// role check, the body size limit, then the handler, whose error becomes
// a problem document.
// checkQuery refuses query values that are not text: invalid UTF-8 or
// control characters (a NUL would reach the database).
func checkQuery(r *http.Request) error {
	for name, vals := range r.URL.Query() {
		for _, v := range vals {
			if !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl) {
				return badRequest(name, "query parameter %q holds invalid UTF-8 or a control character", name)
			}
		}
	}
	return nil
}

func (a *API) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := a.authenticate(r)
		if err == nil {
			if err = authorize(rt, userOf(r)); err != nil {
				a.auditDenied(r, rt)
			}
		}
		if err == nil {
			err = checkQuery(r)
		}
		if err == nil {
			r.Body = http.MaxBytesReader(w, r.Body, rt.maxBody())
			err = rt.handle(w, r)
		}
		if err != nil {
			a.problem(w, r, err)
		}
	})
}

// auditDenied records that a signed-in user asked for a route their role
// does not allow: an attempt at what only admins decide is in the audit
// trail, whether it came through the API, the UI or the CLI. A failure to
// record it is logged; the answer is the refusal either way. It stays
// here, at the API's edge, because the decision it records is the HTTP
// access check of the route table, which no service makes.
func (a *API) auditDenied(r *http.Request, rt route) {
	e := &inventory.AuditEvent{Actor: actor(r), Action: "access.denied", Object: inventory.ObjectName(inventory.KindRoute, rt.op),
		Summary: r.Method + " " + r.URL.Path + " needs the admin role"}
	if err := a.Audit.Record(r.Context(), e); err != nil {
		a.Log.Error("api: record a denied request", "op", rt.op, "err", err)
	}
}
