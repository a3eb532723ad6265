package api

import (
	"net/http"
	"slices"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Route is a route of the table as the external tests see it.
type Route struct {
	Method, Pattern string
	Role            inventory.Role
	// JSONIn is set for a JSON request body; InMedia names a raw one.
	JSONIn  bool
	InMedia string
}

// Routes returns a's route table.
func (a *API) Routes() []Route {
	out := make([]Route, 0, len(a.routes))
	for _, rt := range a.routes {
		out = append(out, Route{Method: rt.method, Pattern: rt.pattern, Role: rt.role, JSONIn: rt.in != nil, InMedia: rt.inMedia})
	}
	return out
}

// FindRoute returns the route of method and pattern.
func (a *API) FindRoute(method, pattern string) (Route, bool) {
	routes := a.Routes()
	i := slices.IndexFunc(routes, func(r Route) bool { return r.Method == method && r.Pattern == pattern })
	if i < 0 {
		return Route{}, false
	}
	return routes[i], true
}

// NoRoute starts the problem detail of a request that matches no route.
const NoRoute = noRoute

// CertificateFilter reads the store filter of a certificate list request
// as the API does.
func (a *API) CertificateFilter(r *http.Request) (inventory.CertificateFilter, error) {
	return a.certificateFilter(r)
}
