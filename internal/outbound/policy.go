package outbound

import (
	"errors"
	"net/netip"
	"slices"
)

// ErrDenied matches every connection the policy refuses:
// errors.Is(err, ErrDenied).
var ErrDenied = errors.New("not allowed by the outbound policy")

// DeniedError is a connection the policy refused before any packet was
// sent. Its message, "connection to ADDR is not allowed by the outbound
// policy", is meant to be shown as it is: it names only the address that
// was to be connected to, which the caller asked for.
type DeniedError struct {
	// Addr is the address and port that was refused.
	Addr netip.AddrPort
}

func (e *DeniedError) Error() string {
	return "connection to " + e.Addr.String() + " is " + ErrDenied.Error()
}

// Is makes errors.Is(err, ErrDenied) true.
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// Policy says where certkeeper may connect on someone's behalf. The zero
// value allows every address except the built-in denials. A Policy must
// not be changed once a Dialer uses it: build a new one and SetPolicy.
type Policy struct {
	// Allow lists where connections may go; empty means everywhere not
	// denied.
	Allow []Rule
	// Deny lists where connections may not go; a denial wins over any
	// allow rule.
	Deny []Rule
}

// BuiltinDenied are the networks no policy can allow: link-local
// addresses and the cloud instance metadata services, which hand out the
// machine's credentials to whoever asks from the machine. No certificate
// endpoint, OCSP responder, SMTP or SSH server certkeeper works with has
// a reason to live there, and a broad allow rule (0.0.0.0/0) written in
// haste must not open them. See docs/outbound.md.
var BuiltinDenied = mustRules(
	"0.0.0.0/8",       // "this network" (RFC 791): 0.0.0.0 reaches the local host on Linux
	"169.254.0.0/16",  // IPv4 link-local (RFC 3927): AWS, GCP, Azure, OpenStack metadata at .169.254, ECS at .170.2
	"100.100.100.200", // Alibaba Cloud metadata
	"192.0.0.192",     // Oracle Cloud Infrastructure (classic) metadata
	"::/128",          // the unspecified IPv6 address, like 0.0.0.0
	"fe80::/10",       // IPv6 link-local (RFC 4291)
	"fd00:ec2::254",   // AWS instance metadata over IPv6
)

// nat64 is the NAT64 well-known prefix (RFC 6052 section 2.1): an address
// in it reaches the IPv4 address in its last 32 bits through a
// translator, so deny rules are applied to that IPv4 address too.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

func mustRules(texts ...string) []Rule {
	rules := make([]Rule, len(texts))
	for i, s := range texts {
		r, err := ParseRule(s)
		if err != nil {
			panic("outbound: built-in rule " + s + ": " + err.Error())
		}
		rules[i] = r
	}
	return rules
}

// Check returns nil when a connection to addr is allowed, else a
// *DeniedError. IPv4-mapped IPv6 addresses are checked as IPv4, and a
// NAT64 address is denied when the IPv4 address it carries is; addresses
// with a zone are refused (only link-local ones carry one).
func (p *Policy) Check(addr netip.AddrPort) error {
	a := addr.Addr().Unmap()
	key := netip.AddrPortFrom(a, addr.Port())
	if !a.IsValid() || a.Zone() != "" || a.IsMulticast() || p.denies(key) {
		return &DeniedError{Addr: addr}
	}
	if v4, ok := embeddedIPv4(a); ok && p.denies(netip.AddrPortFrom(v4, addr.Port())) {
		return &DeniedError{Addr: addr}
	}
	if p != nil && len(p.Allow) > 0 && !matchesAny(p.Allow, key) {
		return &DeniedError{Addr: addr}
	}
	return nil
}

// denies reports whether a built-in or an Admin's deny rule matches.
func (p *Policy) denies(addr netip.AddrPort) bool {
	return matchesAny(BuiltinDenied, addr) || (p != nil && matchesAny(p.Deny, addr))
}

// embeddedIPv4 returns the IPv4 address a NAT64 address carries.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	if !nat64.Contains(a) {
		return netip.Addr{}, false
	}
	b := a.As16()
	return netip.AddrFrom4([4]byte(b[12:])), true
}

func matchesAny(rules []Rule, addr netip.AddrPort) bool {
	return slices.ContainsFunc(rules, func(r Rule) bool { return r.Matches(addr) })
}
