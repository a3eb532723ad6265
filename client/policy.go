package client

import "context"

// IssuancePolicy says, per role, what a CA may be asked to sign, and what
// happens to a request outside it (see docs/ca.md).
type IssuancePolicy struct {
	Admin RolePolicy `json:"admin"`
	User  RolePolicy `json:"user"`
	// OnViolation is refuse (the default) or approval: an acquisition
	// outside the policy then waits in pending_approval for an admin.
	// Direct issuance from a CA outside the policy is always refused.
	OnViolation string `json:"on_violation,omitempty"`
}

// RolePolicy is what one role may request. The zero value allows
// nothing.
type RolePolicy struct {
	// Unrestricted allows anything the CA itself may sign; the other
	// fields are then ignored.
	Unrestricted bool         `json:"unrestricted,omitempty"`
	Domains      []DomainRule `json:"domains,omitempty"`
	// IPRanges are CIDR ranges IP addresses must fall in.
	IPRanges []string `json:"ip_ranges,omitempty"`
	// MaxNames caps the names of one certificate; 0 means 100.
	MaxNames int `json:"max_names,omitempty"`
	// Profiles allowed; empty means tls-server, tls-client and
	// tls-server-client.
	Profiles []string `json:"profiles,omitempty"`
	// MaxDays caps the validity; 0 means the profile maximum.
	MaxDays int `json:"max_days,omitempty"`
}

// DomainRule allows one DNS domain: itself, with Subdomains the names
// below it, with Wildcard "*.domain" (and with both, wildcards below).
type DomainRule struct {
	Domain     string `json:"domain"`
	Subdomains bool   `json:"subdomains,omitempty"`
	Wildcard   bool   `json:"wildcard,omitempty"`
}

// CAPolicy is a CA's issuance policy.
type CAPolicy struct {
	CAID int64  `json:"ca_id"`
	CA   string `json:"ca"`
	// Default says no policy was set: admins may request anything, users
	// nothing.
	Default bool           `json:"default"`
	Policy  IssuancePolicy `json:"policy"`
	// Summary says what the policy allows, in one line.
	Summary string `json:"summary"`
}

// Reject says why a request waiting for approval is rejected.
type Reject struct {
	Reason string `json:"reason"`
}

// GetCAPolicy returns CA id's issuance policy.
func (c *Client) GetCAPolicy(ctx context.Context, id int64) (*CAPolicy, error) {
	var out CAPolicy
	return &out, c.do(ctx, call{method: "GET", path: path("cas", id, "policy"), out: &out})
}

// SetCAPolicy replaces CA id's issuance policy (admin only; audited).
func (c *Client) SetCAPolicy(ctx context.Context, id int64, p IssuancePolicy) (*CAPolicy, error) {
	var out CAPolicy
	return &out, c.do(ctx, call{method: "PUT", path: path("cas", id, "policy"), in: p, out: &out})
}

// Approve has the CA issue the request of a process in pending_approval
// (admin only, not the requester; audited).
func (c *Client) Approve(ctx context.Context, id int64) (*Validation, error) {
	var out Validation
	return &out, c.do(ctx, call{method: "POST", path: path("acquisitions", id, "approve"), out: &out})
}

// Reject closes a process in pending_approval as cancelled (admin only,
// not the requester; audited).
func (c *Client) Reject(ctx context.Context, id int64, reason string) (*Acquisition, error) {
	return c.acquisitionCall(ctx, "POST", path("acquisitions", id, "reject"), Reject{Reason: reason})
}
