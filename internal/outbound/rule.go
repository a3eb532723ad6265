package outbound

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Rule matches connections to a network, on some ports or on all.
type Rule struct {
	// Prefix is the network, IPv4 or IPv6, masked.
	Prefix netip.Prefix
	// Ports are the ports the rule covers; none means every port.
	Ports []PortRange
}

// PortRange is First to Last, both included; a single port has First ==
// Last.
type PortRange struct {
	First, Last uint16
}

// maxRule bounds the text of one rule.
const maxRule = 1024

// ParseRule reads one rule: a network with an optional port list,
//
//	10.0.0.0/8            every port of 10.0.0.0/8
//	10.1.2.3              one address (a /32; /128 for IPv6)
//	10.0.0.0/8:443,8443   ports 443 and 8443
//	192.168.0.0/16:8000-8100
//	[fd00::/8]:443        IPv6 with ports: the network in brackets
//	fd00::/8              IPv6, every port
//
// Port lists are ports and ranges FIRST-LAST (1 to 65535) separated by
// commas. IPv4-mapped IPv6 networks (::ffff:10.0.0.0/104) are read as the
// IPv4 network they name. The prefix's host bits must be zero, so that a
// rule means what it says.
func ParseRule(s string) (Rule, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxRule {
		return Rule{}, errors.New("an empty or over-long rule")
	}
	network, ports, err := splitRule(s)
	if err != nil {
		return Rule{}, err
	}
	p, err := parseNetwork(network)
	if err != nil {
		return Rule{}, err
	}
	r := Rule{Prefix: p}
	if ports != "" {
		if r.Ports, err = parsePorts(ports); err != nil {
			return Rule{}, err
		}
	}
	return r, nil
}

// splitRule separates the network from the port list.
func splitRule(s string) (network, ports string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return "", "", fmt.Errorf("%q: a \"[\" without \"]\"", s)
		}
		rest := s[end+1:]
		if rest == "" || !strings.HasPrefix(rest, ":") || len(rest) == 1 {
			return "", "", fmt.Errorf("%q: write [IPv6-NETWORK]:PORTS, or the network alone without brackets", s)
		}
		return s[1:end], rest[1:], nil
	}
	if strings.Count(s, ":") == 1 {
		network, ports, _ = strings.Cut(s, ":")
		if ports == "" {
			return "", "", fmt.Errorf("%q: no ports after \":\"", s)
		}
		return network, ports, nil
	}
	return s, "", nil
}

// parseNetwork reads a CIDR prefix or one address.
func parseNetwork(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR network such as 10.0.0.0/8", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR network such as 10.0.0.0/8 or fd00::/8", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set: the network is %s", s, p.Masked())
	}
	return unmapPrefix(p), nil
}

// unmapPrefix turns ::ffff:a.b.c.d/n (n >= 96) into a.b.c.d/(n-96), as
// connections to mapped addresses are checked as IPv4.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// maxPortRanges bounds a rule's port list.
const maxPortRanges = 64

func parsePorts(s string) ([]PortRange, error) {
	parts := strings.Split(s, ",")
	if len(parts) > maxPortRanges {
		return nil, fmt.Errorf("more than %d ports or ranges in one rule", maxPortRanges)
	}
	out := make([]PortRange, 0, len(parts))
	for _, part := range parts {
		first, last, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := parsePort(first)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = parsePort(last); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("port range %q runs backwards", part)
			}
		}
		out = append(out, PortRange{First: a, Last: b})
	}
	return out, nil
}

func parsePort(s string) (uint16, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 || s[0] == '+' {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", s)
	}
	return uint16(n), nil
}

// String writes the rule as ParseRule reads it.
func (r Rule) String() string {
	if len(r.Ports) == 0 {
		if r.Prefix.IsSingleIP() {
			return r.Prefix.Addr().String()
		}
		return r.Prefix.String()
	}
	ports := make([]string, len(r.Ports))
	for i, pr := range r.Ports {
		ports[i] = pr.String()
	}
	network := r.Prefix.String()
	if r.Prefix.Addr().Is6() {
		network = "[" + network + "]"
	}
	return network + ":" + strings.Join(ports, ",")
}

// String is "443" or "8000-8100".
func (pr PortRange) String() string {
	if pr.First == pr.Last {
		return strconv.Itoa(int(pr.First))
	}
	return strconv.Itoa(int(pr.First)) + "-" + strconv.Itoa(int(pr.Last))
}

// Matches reports whether a connection to addr falls under the rule.
func (r Rule) Matches(addr netip.AddrPort) bool {
	if !r.Prefix.Contains(addr.Addr()) {
		return false
	}
	return len(r.Ports) == 0 || slices.ContainsFunc(r.Ports, func(pr PortRange) bool {
		return addr.Port() >= pr.First && addr.Port() <= pr.Last
	})
}
