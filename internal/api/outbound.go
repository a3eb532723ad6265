package api

import (
	"net/http"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/outbound"
)

// outboundRoutes: the outbound policy, readable by users (so that a
// refused check can be understood), set by admins.
func (a *API) outboundRoutes() []route {
	pol := typeOf[client.OutboundPolicy]()
	return []route{
		{method: "GET", pattern: "/api/v1/settings/outbound", op: "getOutboundPolicy", role: user,
			summary: "Get the outbound policy: where certkeeper may connect on someone's behalf", out: pol,
			handle: a.getOutboundPolicy},
		{method: "PUT", pattern: "/api/v1/settings/outbound", op: "setOutboundPolicy", role: admin,
			summary: "Replace the outbound policy (in force at once); builtin_denied is ignored", in: pol, out: pol,
			handle: a.setOutboundPolicy},
	}
}

func outboundOut(p *outbound.Policy) client.OutboundPolicy {
	return client.OutboundPolicy{Allow: outbound.Texts(p.Allow), Deny: outbound.Texts(p.Deny),
		BuiltinDenied: outbound.Texts(outbound.BuiltinDenied)}
}

func (a *API) getOutboundPolicy(w http.ResponseWriter, r *http.Request) error {
	return ok(w, outboundOut(a.Outbound.Get(r.Context())))
}

func (a *API) setOutboundPolicy(w http.ResponseWriter, r *http.Request) error {
	var in client.OutboundPolicy
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := outbound.Parse(in.Allow, in.Deny)
	if err != nil {
		return err
	}
	if p, err = a.Outbound.Set(r.Context(), actor(r), p); err != nil {
		return err
	}
	return ok(w, outboundOut(p))
}
