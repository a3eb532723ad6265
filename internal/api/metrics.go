package api

import (
	"net/http"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// MetricsRole is the role /metrics on the HTTPS listener needs: any user's
// API token. What it shows (endpoints, definitions' certificates, alert
// counts) every user may read through the API anyway, and a scraper is
// best given a token of a user-role account of its own.
const MetricsRole = inventory.RoleUser

// RequireToken returns h behind the API's bearer-token check and the role
// check of role: a request without a valid token gets the API's 401
// problem document, a token whose user lacks role a 403 (recorded in the
// audit trail). The server mounts the Prometheus metrics on the HTTPS
// listener through it; web sessions do not open it.
func (a *API) RequireToken(role inventory.Role, h http.Handler) http.Handler {
	rt := route{method: http.MethodGet, pattern: "/metrics", op: "getMetrics", role: role}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := a.authenticate(r)
		if err == nil {
			if err = authorize(rt, userOf(r)); err != nil {
				a.auditDenied(r, rt)
			}
		}
		if err != nil {
			a.problem(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}
