package api

import (
	"errors"
	"net/http"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/acquisition"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// policyRoutes: CA issuance policies and the approval of acquisitions
// outside them. Anyone may read a policy (to know what they may ask
// for); changing it, approving and rejecting are admin actions.
func (a *API) policyRoutes() []route {
	pol := typeOf[client.CAPolicy]()
	return []route{
		{method: "GET", pattern: "/api/v1/cas/{id}/policy", op: "getCAPolicy", role: user,
			summary: "Get a CA's issuance policy", out: pol, handle: a.getCAPolicy},
		{method: "PUT", pattern: "/api/v1/cas/{id}/policy", op: "setCAPolicy", role: admin,
			summary: "Replace a CA's issuance policy (audited)", in: typeOf[client.IssuancePolicy](), out: pol,
			handle: a.setCAPolicy},
		{method: "POST", pattern: "/api/v1/acquisitions/{id}/approve", op: "approveAcquisition", role: admin,
			summary: "Approve a request waiting for approval: the CA issues (not by the requester; audited)",
			out:     typeOf[client.Validation](), handle: a.approveAcquisition},
		{method: "POST", pattern: "/api/v1/acquisitions/{id}/reject", op: "rejectAcquisition", role: admin,
			summary: "Reject a request waiting for approval (not by the requester; audited)", in: typeOf[client.Reject](),
			out: typeOf[client.Acquisition](), handle: a.rejectAcquisition},
	}
}

func (a *API) getCAPolicy(w http.ResponseWriter, r *http.Request) error {
	c, err := a.ca(r)
	if err != nil {
		return err
	}
	return ok(w, caPolicyOut(c))
}

func (a *API) setCAPolicy(w http.ResponseWriter, r *http.Request) error {
	c, err := a.ca(r)
	if err != nil {
		return err
	}
	var in client.IssuancePolicy
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err = a.Authority.SetIssuancePolicy(r.Context(), c.Name, issuanceIn(in), actor(r))
	if err != nil {
		return err
	}
	return ok(w, caPolicyOut(c))
}

func (a *API) approveAcquisition(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := a.Acquisitions.Approve(r.Context(), requester(r), id)
	if err != nil {
		return forbidden(err)
	}
	return ok(w, a.validationOut(v))
}

func (a *API) rejectAcquisition(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in client.Reject
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.Acquisitions.Reject(r.Context(), requester(r), id, in.Reason)
	if err != nil {
		return forbidden(err)
	}
	return ok(w, processOut(p))
}

// forbidden answers an approval the user may not make with 403.
func forbidden(err error) error {
	if errors.Is(err, acquisition.ErrForbidden) {
		return &statusError{status: http.StatusForbidden, err: err}
	}
	return err
}

func caPolicyOut(c *inventory.CA) client.CAPolicy {
	p := ca.EffectiveIssuance(c)
	return client.CAPolicy{CAID: c.ID, CA: c.Name, Default: c.Issuance == nil, Summary: ca.DescribeIssuance(p),
		Policy: client.IssuancePolicy{Admin: rolePolicyOut(p.Admin), User: rolePolicyOut(p.User), OnViolation: string(p.OnViolation)}}
}

func rolePolicyOut(rp inventory.RolePolicy) client.RolePolicy {
	out := client.RolePolicy{Unrestricted: rp.Unrestricted, IPRanges: rp.IPRanges, MaxNames: rp.MaxNames,
		Profiles: rp.Profiles, MaxDays: rp.MaxDays}
	for _, d := range rp.Domains {
		out.Domains = append(out.Domains, client.DomainRule{Domain: d.Domain, Subdomains: d.Subdomains, Wildcard: d.Wildcard})
	}
	return out
}

func issuanceIn(in client.IssuancePolicy) inventory.IssuancePolicy {
	return inventory.IssuancePolicy{Admin: rolePolicyIn(in.Admin), User: rolePolicyIn(in.User),
		OnViolation: inventory.Violation(in.OnViolation)}
}

func rolePolicyIn(in client.RolePolicy) inventory.RolePolicy {
	out := inventory.RolePolicy{Unrestricted: in.Unrestricted, IPRanges: in.IPRanges, MaxNames: in.MaxNames,
		Profiles: in.Profiles, MaxDays: in.MaxDays}
	for _, d := range in.Domains {
		out.Domains = append(out.Domains, inventory.DomainRule{Domain: d.Domain, Subdomains: d.Subdomains, Wildcard: d.Wildcard})
	}
	return out
}
