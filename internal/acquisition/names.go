package acquisition

import (
	"crypto/x509"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// hostRE matches a lower-case host name, with an optional wildcard label.
var hostRE = regexp.MustCompile(`^(\*\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9])?)*$`)

// names are the DNS names and IP addresses a certificate carries.
type names struct {
	dns []string
	ips []net.IP
}

// all lists the names as strings, DNS names first.
func (n names) all() []string {
	out := append([]string(nil), n.dns...)
	for _, ip := range n.ips {
		out = append(out, ip.String())
	}
	return out
}

// wanted returns the names a definition asks for: its common name, when
// it is a host name or an IP address, then its SANs, without repeats.
func wanted(d *inventory.Definition) names {
	var n names
	seen := map[string]bool{}
	for _, s := range append([]string{d.Subject.CommonName}, d.SANs...) {
		s = normalName(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		if ip, err := netip.ParseAddr(s); err == nil {
			n.ips = append(n.ips, net.IP(ip.AsSlice()))
		} else if hostRE.MatchString(s) {
			n.dns = append(n.dns, s)
		}
	}
	return n
}

// normalName is a name in the form names are compared in: lower case,
// without a trailing dot; IP addresses in their canonical text.
func normalName(s string) string {
	s = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap().String()
	}
	return s
}

// certNames returns the DNS and IP SANs of c, normalised.
func certNames(c *x509.Certificate) []string {
	var out []string
	for _, d := range c.DNSNames {
		out = append(out, normalName(d))
	}
	for _, ip := range c.IPAddresses {
		out = append(out, normalName(ip.String()))
	}
	return out
}

// differences lists the wanted names the certificate lacks ("missing:
// ...") and the names it has that were not wanted ("extra: ..."), each in
// their order; have is normalised (certNames). Wildcards are compared as
// written, not expanded.
func differences(want names, have []string) []string {
	wantList := want.all()
	var out []string
	for _, w := range wantList {
		if !slices.Contains(have, w) {
			out = append(out, "missing: "+w)
		}
	}
	for _, h := range have {
		if !slices.Contains(wantList, h) {
			out = append(out, "extra: "+h)
		}
	}
	return out
}

// joinNames lists names for a step or audit summary.
func joinNames(list []string) string { return strings.Join(list, ", ") }
