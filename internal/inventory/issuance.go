package inventory

// Violation says what a CA does with a request outside the requester's
// issuance policy.
type Violation string

// Violation settings.
const (
	// ViolationRefuse refuses the request (the default).
	ViolationRefuse Violation = "refuse"
	// ViolationApproval holds an acquisition for an admin's approval
	// (state pending_approval); a direct issuance is still refused.
	ViolationApproval Violation = "approval"
)

// Valid reports whether v is a known setting; "" is (it means refuse).
func (v Violation) Valid() bool { return v == "" || v == ViolationRefuse || v == ViolationApproval }

// IssuancePolicy says, per role, what a CA may be asked to sign. It
// comes on top of the CA's NamePolicy, which limits everyone.
type IssuancePolicy struct {
	Admin RolePolicy `json:"admin"`
	User  RolePolicy `json:"user"`
	// OnViolation is what happens to a request outside the policy; ""
	// means refuse.
	OnViolation Violation `json:"on_violation,omitempty"`
}

// DefaultIssuancePolicy is the policy of a CA none was set for: admins
// may request anything the CA may sign, users nothing.
func DefaultIssuancePolicy() IssuancePolicy {
	return IssuancePolicy{Admin: RolePolicy{Unrestricted: true}, OnViolation: ViolationRefuse}
}

// For returns the policy of role; the zero RolePolicy (nothing allowed)
// for any other role.
func (p IssuancePolicy) For(role Role) RolePolicy {
	switch role {
	case RoleAdmin:
		return p.Admin
	case RoleUser:
		return p.User
	}
	return RolePolicy{}
}

// RolePolicy is what one role may request. The zero value allows
// nothing.
type RolePolicy struct {
	// Unrestricted allows any request the CA itself may sign; the other
	// fields are then ignored.
	Unrestricted bool `json:"unrestricted,omitempty"`
	// Domains are the DNS names allowed; a DNS name must match one.
	Domains []DomainRule `json:"domains,omitempty"`
	// IPRanges are CIDR ranges an IP address must fall in.
	IPRanges []string `json:"ip_ranges,omitempty"`
	// MaxNames caps the DNS names and IP addresses of one certificate;
	// 0 means DefaultMaxNames.
	MaxNames int `json:"max_names,omitempty"`
	// Profiles are the profiles allowed; empty means tls-server,
	// tls-client and tls-server-client.
	Profiles []string `json:"profiles,omitempty"`
	// MaxDays caps the validity in days; 0 means the profile's maximum.
	MaxDays int `json:"max_days,omitempty"`
}

// DefaultMaxNames is the name cap of a restricted role policy that sets
// none.
const DefaultMaxNames = 100

// DomainRule allows one DNS domain.
type DomainRule struct {
	// Domain is allowed itself ("example.com").
	Domain string `json:"domain"`
	// Subdomains allows names below it ("a.b.example.com").
	Subdomains bool `json:"subdomains,omitempty"`
	// Wildcard allows "*.example.com", and with Subdomains wildcards
	// below it ("*.a.example.com").
	Wildcard bool `json:"wildcard,omitempty"`
}
