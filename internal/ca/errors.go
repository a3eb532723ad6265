package ca

import (
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Rules an issuance can be refused by; PolicyError.Rule is one of them.
const (
	// RuleRequester: the request names no requester, or one whose role
	// has no policy.
	RuleRequester = "requester"
	// RuleNamePolicy: a name outside the CA's own name policy, which
	// limits everyone (and is written into sub-CA certificates).
	RuleNamePolicy = "name_policy"
	// RuleDNSDomain: a DNS name outside the role's domains.
	RuleDNSDomain = "dns_domain"
	// RuleWildcard: a wildcard name where the role's domain allows none.
	RuleWildcard = "wildcard"
	// RuleIPRange: an IP address outside the role's ranges.
	RuleIPRange = "ip_range"
	// RuleMaxNames: more names than the role may put in a certificate.
	RuleMaxNames = "max_names"
	// RuleProfile: a profile the role may not request.
	RuleProfile = "profile"
	// RuleMaxDays: a validity beyond the role's maximum.
	RuleMaxDays = "max_days"
)

// PolicyError is a request refused by a CA's name policy or by the
// issuance policy of the requester's role. It matches
// inventory.ErrInvalid with errors.Is, and errors.As finds an
// *inventory.FieldError in it naming Field, so that callers that know
// only field errors still name the field at fault.
type PolicyError struct {
	// CA names the CA that refused.
	CA string
	// Role is the requester's role; "" for the CA's name policy.
	Role inventory.Role
	// Rule is the rule that refused (RuleDNSDomain, ...).
	Rule string
	// Field is the request field at fault, in the API's JSON names:
	// "dns_names", "ip_addresses", "profile", "validity_days" or
	// "requester".
	Field string
	// Approvable says the CA holds an acquisition outside the policy
	// for an admin's approval instead of refusing it (OnViolation
	// approval). A direct issuance is refused all the same.
	Approvable bool
	reason     string
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("ca: %s refuses the request (rule %s): %s", e.CA, e.Rule, e.reason)
}

// Reason says in one line what the rule refused, without the prefix.
func (e *PolicyError) Reason() string { return e.reason }

// Is makes errors.Is(err, inventory.ErrInvalid) true.
func (e *PolicyError) Is(target error) bool { return target == inventory.ErrInvalid }

// As fills an *inventory.FieldError target with the field and reason.
func (e *PolicyError) As(target any) bool {
	return asFieldError(target, e.Field, fmt.Sprintf("rule %s: %s", e.Rule, e.reason))
}

// RequestError is a request the CA refuses for what it asks (a malformed
// name, a validity beyond the profile, an unknown profile, a lint
// finding). It matches inventory.ErrInvalid with errors.Is and, when
// Field is set, errors.As finds an *inventory.FieldError naming it.
type RequestError struct {
	// Field is the request field at fault in the API's JSON names
	// ("dns_names", "ip_addresses", "common_name", "validity_days",
	// "key_type", "profile", "csr"); "" when no one field is.
	Field  string
	Reason string
}

func (e *RequestError) Error() string { return "ca: " + e.Reason }

// Is makes errors.Is(err, inventory.ErrInvalid) true.
func (e *RequestError) Is(target error) bool { return target == inventory.ErrInvalid }

// As fills an *inventory.FieldError target when Field is set.
func (e *RequestError) As(target any) bool { return asFieldError(target, e.Field, e.Reason) }

// refused makes a *RequestError.
func refused(field, format string, args ...any) error {
	return &RequestError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func asFieldError(target any, field, reason string) bool {
	fe, ok := target.(**inventory.FieldError)
	if !ok || field == "" {
		return false
	}
	*fe = &inventory.FieldError{Field: field, Reason: reason}
	return true
}
