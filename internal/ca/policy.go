package ca

import (
	"crypto/x509"
	"fmt"
	"net"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// nameSet is the subject alternative names of a request.
type nameSet struct {
	dns []string
	ips []net.IP
}

func (n nameSet) empty() bool { return len(n.dns) == 0 && len(n.ips) == 0 }

// first is the name a missing common name defaults to.
func (n nameSet) first() string {
	if len(n.dns) > 0 {
		return n.dns[0]
	}
	if len(n.ips) > 0 {
		return n.ips[0].String()
	}
	return ""
}

// normalizeNames lower-cases DNS names, checks their syntax (RFC 5280
// section 4.2.1.6 preferred name syntax; a wildcard only as the whole
// leftmost label) and drops duplicates.
func normalizeNames(dns []string, ips []net.IP) (nameSet, error) {
	var out nameSet
	seen := make(map[string]bool)
	for _, d := range dns {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		if err := checkDNSName(d); err != nil {
			return nameSet{}, err
		}
		if !seen[d] {
			seen[d] = true
			out.dns = append(out.dns, d)
		}
	}
	for _, ip := range ips {
		if ip == nil || (ip.To4() == nil && ip.To16() == nil) {
			return nameSet{}, refused("ip_addresses", "invalid IP address %v", ip)
		}
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		if !seen[ip.String()] {
			seen[ip.String()] = true
			out.ips = append(out.ips, ip)
		}
	}
	return out, nil
}

func checkDNSName(d string) error {
	if d == "" || len(d) > 253 {
		return refused("dns_names", "invalid DNS name %q", d)
	}
	for i, label := range strings.Split(d, ".") {
		if label == "*" && i == 0 && strings.Count(d, ".") >= 2 {
			continue
		}
		if !validLabel(label) {
			return refused("dns_names", "invalid DNS name %q", d)
		}
	}
	return nil
}

// validLabel reports whether l is an LDH label (letters, digits, hyphens,
// not starting or ending with a hyphen, at most 63 characters).
func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, r := range l {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// checkPolicy refuses names outside the CA's name policy, whoever asks.
func checkPolicy(caName string, p inventory.NamePolicy, names nameSet) error {
	deny := func(field string, name any, permitted []string) error {
		return &PolicyError{CA: caName, Rule: RuleNamePolicy, Field: field,
			reason: fmt.Sprintf("%s may not sign for %s (permitted: %s)", caName, name, strings.Join(permitted, ", "))}
	}
	if len(p.PermittedDNSDomains) > 0 {
		for _, d := range names.dns {
			if !dnsPermitted(p.PermittedDNSDomains, d) {
				return deny("dns_names", d, p.PermittedDNSDomains)
			}
		}
	}
	if len(p.PermittedIPRanges) > 0 {
		for _, ip := range names.ips {
			if !ipPermitted(p.PermittedIPRanges, ip) {
				return deny("ip_addresses", ip, p.PermittedIPRanges)
			}
		}
	}
	return nil
}

func dnsPermitted(domains []string, name string) bool {
	name = strings.TrimPrefix(name, "*.")
	for _, d := range domains {
		d = strings.ToLower(strings.TrimPrefix(d, "."))
		if name == d || strings.HasSuffix(name, "."+d) {
			return true
		}
	}
	return false
}

func ipPermitted(ranges []string, ip net.IP) bool {
	for _, r := range ranges {
		if _, n, err := net.ParseCIDR(r); err == nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// ValidatePolicy checks a name policy's syntax.
func ValidatePolicy(p inventory.NamePolicy) error {
	for _, d := range p.PermittedDNSDomains {
		if checkDNSName(strings.ToLower(strings.TrimPrefix(d, "."))) != nil {
			return fmt.Errorf("ca: name policy: invalid DNS domain %q", d)
		}
	}
	for _, r := range p.PermittedIPRanges {
		if _, _, err := net.ParseCIDR(r); err != nil {
			return fmt.Errorf("ca: name policy: invalid IP range %q", r)
		}
	}
	return nil
}

// constrain writes a CA's name policy into a sub-CA certificate as name
// constraints (RFC 5280 section 4.2.1.10), so relying parties enforce it
// too.
func constrain(t *x509.Certificate, p inventory.NamePolicy) {
	t.PermittedDNSDomains = p.PermittedDNSDomains
	for _, r := range p.PermittedIPRanges {
		if _, n, err := net.ParseCIDR(r); err == nil {
			t.PermittedIPRanges = append(t.PermittedIPRanges, n)
		}
	}
	t.PermittedDNSDomainsCritical = len(t.PermittedDNSDomains) > 0 || len(t.PermittedIPRanges) > 0
}
