package ca

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// RoleSystem is the role of certkeeper's own issuances (the web server
// certificate, OCSP responder certificates, agent certificates). Only
// code in the manager makes them: no API route or command sets it. They
// are exempt from the issuance policy of the roles; the CA's name policy
// still applies.
const RoleSystem inventory.Role = "system"

// Requester is who asks a CA for a certificate.
type Requester struct {
	// Name is how the audit trail names them: "user:alice" (API, web),
	// "cli:bob" (local command line), "certkeeper" (system).
	Name string
	// Role chooses the issuance policy: inventory.RoleAdmin,
	// inventory.RoleUser or RoleSystem. Any other role, the empty one
	// included, is refused.
	Role inventory.Role
}

// System is the requester of certkeeper's own issuances.
func System() Requester { return Requester{Name: "certkeeper", Role: RoleSystem} }

// Admin is an admin requester named name in the audit trail.
func Admin(name string) Requester { return Requester{Name: name, Role: inventory.RoleAdmin} }

// EffectiveIssuance returns c's issuance policy, or the default one.
func EffectiveIssuance(c *inventory.CA) inventory.IssuancePolicy {
	if c.Issuance == nil {
		return inventory.DefaultIssuancePolicy()
	}
	return *c.Issuance
}

// checkRequest refuses a request outside the issuance policy of its
// requester's role, or without a requester of a known role.
func checkRequest(c *inventory.CA, r Request, names nameSet) error {
	p := EffectiveIssuance(c)
	switch r.Requester.Role {
	case RoleSystem:
		return nil
	case inventory.RoleAdmin, inventory.RoleUser:
	default:
		return &PolicyError{CA: c.Name, Rule: RuleRequester, Field: "requester",
			reason: fmt.Sprintf("requester %q has no role the CA knows (%q)", r.Requester.Name, r.Requester.Role)}
	}
	rp := p.For(r.Requester.Role)
	if rp.Unrestricted || r.OnBehalfOf != "" && r.Requester.Role == inventory.RoleAdmin {
		return nil // an approved request: the admin who approved it vouches for it
	}
	deny := func(rule, field, format string, args ...any) error {
		return &PolicyError{CA: c.Name, Role: r.Requester.Role, Rule: rule, Field: field,
			Approvable: p.OnViolation == inventory.ViolationApproval, reason: fmt.Sprintf(format, args...)}
	}
	if err := checkShape(rp, r, names, deny); err != nil {
		return err
	}
	return checkNames(rp, r, names, deny)
}

// denial makes the PolicyError of one rule.
type denial func(rule, field, format string, args ...any) error

// checkShape applies the rules on the request as a whole: profile,
// number of names, validity.
func checkShape(rp inventory.RolePolicy, r Request, names nameSet, deny denial) error {
	role := r.Requester.Role
	if !slices.Contains(roleProfiles(rp), string(r.Profile)) {
		return deny(RuleProfile, "profile", "the %s role may not request %s certificates (allowed: %s)",
			role, r.Profile, strings.Join(roleProfiles(rp), ", "))
	}
	if n, limit := len(names.dns)+len(names.ips), roleMaxNames(rp); n > limit {
		return deny(RuleMaxNames, "dns_names", "%d names; the %s role may request at most %d", n, role, limit)
	}
	if rp.MaxDays > 0 && r.Validity > time.Duration(rp.MaxDays)*day {
		return deny(RuleMaxDays, "validity_days", "%d days; the %s role may request at most %d", int(r.Validity/day), role, rp.MaxDays)
	}
	return nil
}

// checkNames applies the rules on each name and on the common name.
func checkNames(rp inventory.RolePolicy, r Request, names nameSet, deny denial) error {
	role := r.Requester.Role
	for _, d := range names.dns {
		if rule := domainRefusal(rp.Domains, d); rule != "" {
			return deny(rule, "dns_names", "the %s role may not request %s (allowed: %s)", role, d, describeDomains(rp.Domains))
		}
	}
	for _, ip := range names.ips {
		if !ipPermitted(rp.IPRanges, ip) {
			return deny(RuleIPRange, "ip_addresses", "the %s role may not request %s (allowed: %s)", role, ip,
				first(strings.Join(rp.IPRanges, ", "), "no IP address"))
		}
	}
	if cn := requestCN(r); cn != "" && !names.has(cn) {
		return deny(RuleDNSDomain, "common_name", "the %s role may request a common name only among the certificate's names, not %q",
			role, cn)
	}
	return nil
}

// requestCN is the common name asked for, in the request or its CSR.
func requestCN(r Request) string {
	if r.CommonName == "" && r.CSR != nil {
		return r.CSR.Subject.CommonName
	}
	return r.CommonName
}

// roleCap is the longest validity the role may get, or 0 for no cap
// beyond the profile's: a request that asks for none gets the profile
// default cut at it.
func roleCap(c *inventory.CA, role inventory.Role) time.Duration {
	rp := EffectiveIssuance(c).For(role)
	if role == RoleSystem || rp.Unrestricted || rp.MaxDays <= 0 {
		return 0
	}
	return time.Duration(rp.MaxDays) * day
}

// leafProfiles are the profiles a role policy allows when it names none.
var leafProfiles = []string{string(TLSServer), string(TLSClient), string(TLSServerClient)}

func roleProfiles(rp inventory.RolePolicy) []string {
	if len(rp.Profiles) == 0 {
		return leafProfiles
	}
	return rp.Profiles
}

func roleMaxNames(rp inventory.RolePolicy) int {
	if rp.MaxNames <= 0 {
		return inventory.DefaultMaxNames
	}
	return rp.MaxNames
}

// domainRefusal returns the rule refusing DNS name d (lower case,
// checked), or "" when a domain rule allows it: the domain itself, a
// name below it with Subdomains, "*.domain" with Wildcard, and a
// wildcard further below with both.
func domainRefusal(rules []inventory.DomainRule, d string) string {
	base, wildcard := strings.CutPrefix(d, "*.")
	refusal := RuleDNSDomain
	for _, r := range rules {
		dom := strings.ToLower(r.Domain)
		under := base == dom || r.Subdomains && strings.HasSuffix(base, "."+dom)
		switch {
		case !under:
		case !wildcard && (base == dom || r.Subdomains):
			return ""
		case wildcard && r.Wildcard:
			return ""
		case wildcard:
			refusal = RuleWildcard
		}
	}
	return refusal
}

func describeDomains(rules []inventory.DomainRule) string {
	if len(rules) == 0 {
		return "no DNS name"
	}
	var s []string
	for _, r := range rules {
		d := r.Domain
		if r.Subdomains {
			d += " and subdomains"
		}
		if r.Wildcard {
			d += " with wildcards"
		}
		s = append(s, d)
	}
	return strings.Join(s, "; ")
}

// ValidateIssuancePolicy checks p and returns it normalised (domains in
// lower case without a leading dot, IP ranges in canonical form). Errors
// are *inventory.FieldError naming the JSON path ("user.domains[0]").
func ValidateIssuancePolicy(p inventory.IssuancePolicy) (inventory.IssuancePolicy, error) {
	if !p.OnViolation.Valid() {
		return p, inventory.Invalid("on_violation", "%q: want refuse or approval", p.OnViolation)
	}
	if p.OnViolation == "" {
		p.OnViolation = inventory.ViolationRefuse
	}
	var err error
	if p.Admin, err = validateRole("admin", p.Admin); err != nil {
		return p, err
	}
	p.User, err = validateRole("user", p.User)
	return p, err
}

// maxPolicyNames caps MaxNames: more names than this make a certificate
// no TLS stack handles well.
const maxPolicyNames = 1000

func validateRole(field string, rp inventory.RolePolicy) (inventory.RolePolicy, error) {
	out := inventory.RolePolicy{Unrestricted: rp.Unrestricted, MaxNames: rp.MaxNames, MaxDays: rp.MaxDays}
	for i, d := range rp.Domains {
		d.Domain = strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(d.Domain)), "."), ".")
		if d.Domain == "" || strings.Contains(d.Domain, "*") || checkDNSName(d.Domain) != nil {
			return rp, inventory.Invalid(fmt.Sprintf("%s.domains[%d].domain", field, i), "%q is not a DNS domain", rp.Domains[i].Domain)
		}
		out.Domains = append(out.Domains, d)
	}
	for i, r := range rp.IPRanges {
		_, n, err := net.ParseCIDR(strings.TrimSpace(r))
		if err != nil {
			return rp, inventory.Invalid(fmt.Sprintf("%s.ip_ranges[%d]", field, i), "%q is not a CIDR range", r)
		}
		out.IPRanges = append(out.IPRanges, n.String())
	}
	if rp.MaxNames < 0 || rp.MaxNames > maxPolicyNames {
		return rp, inventory.Invalid(field+".max_names", "%d: want 1 to %d, or 0 for %d", rp.MaxNames, maxPolicyNames, inventory.DefaultMaxNames)
	}
	if rp.MaxDays < 0 || rp.MaxDays > int(subCAMax/day) {
		return rp, inventory.Invalid(field+".max_days", "%d: want 1 to %d, or 0 for the profile maximum", rp.MaxDays, int(subCAMax/day))
	}
	for i, pr := range rp.Profiles {
		if _, ok := profiles[Profile(pr)]; !ok {
			return rp, inventory.Invalid(fmt.Sprintf("%s.profiles[%d]", field, i), "unknown profile %q (want %s)", pr, profileNames())
		}
		if !slices.Contains(out.Profiles, pr) {
			out.Profiles = append(out.Profiles, pr)
		}
	}
	return out, nil
}

// SetIssuancePolicy validates p and makes it the issuance policy of the
// CA named name ("" is the default CA), audited as "ca.policy".
func (a *Authority) SetIssuancePolicy(ctx context.Context, name string, p inventory.IssuancePolicy, actor string) (*inventory.CA, error) {
	p, err := ValidateIssuancePolicy(p)
	if err != nil {
		return nil, err
	}
	c, err := a.queryCA(ctx, name)
	if err != nil {
		return nil, err
	}
	c.Issuance = &p
	if err := a.update(ctx, actor, "ca.policy", c, DescribeIssuance(p)); err != nil {
		return nil, err
	}
	return c, nil
}

// DescribeIssuance says what p allows, in one line.
func DescribeIssuance(p inventory.IssuancePolicy) string {
	return fmt.Sprintf("admin: %s; user: %s; outside the policy: %s", describeRole(p.Admin), describeRole(p.User),
		first(string(p.OnViolation), string(inventory.ViolationRefuse)))
}

func describeRole(rp inventory.RolePolicy) string {
	if rp.Unrestricted {
		return "anything"
	}
	if len(rp.Domains) == 0 && len(rp.IPRanges) == 0 {
		return "nothing"
	}
	s := describeDomains(rp.Domains)
	if len(rp.IPRanges) > 0 {
		s += "; IP " + strings.Join(rp.IPRanges, ", ")
	}
	s += fmt.Sprintf("; at most %d names; profiles %s", roleMaxNames(rp), strings.Join(roleProfiles(rp), ", "))
	if rp.MaxDays > 0 {
		s += fmt.Sprintf("; at most %d days", rp.MaxDays)
	}
	return s
}
