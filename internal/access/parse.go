package access

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// LineError is a line of an allow-list that is not an IP address or a
// CIDR prefix. It matches inventory.ErrInvalid with errors.Is.
type LineError struct {
	// Line is the 1-based line number; Text the line without its comment.
	Line   int
	Text   string
	Reason string
}

func (e *LineError) Error() string {
	return fmt.Sprintf("access: line %d: %q: %s", e.Line, e.Text, e.Reason)
}

// Is makes errors.Is(err, inventory.ErrInvalid) true for a LineError.
func (e *LineError) Is(target error) bool { return target == inventory.ErrInvalid }

// ParsePrefixes parses an allow-list: one CIDR prefix ("10.0.0.0/8") or
// single address ("192.0.2.7", meaning /32 or /128) per line. A '#'
// starts a comment; blank lines are ignored. Prefixes are returned
// masked, and IPv4-mapped IPv6 ones ("::ffff:10.0.0.0/104") as IPv4. A
// bad line gives a *LineError naming it. An empty list is not an error.
func ParsePrefixes(text string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, line := range strings.Split(text, "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		p, err := parsePrefix(line)
		if err != nil {
			return nil, &LineError{Line: i + 1, Text: line, Reason: err.Error()}
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseProxies parses the trusted proxies, each a CIDR prefix or a single
// address, as configured.
func ParseProxies(list []string) (Proxies, error) {
	var out Proxies
	for _, s := range list {
		p, err := parsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("access: trusted proxy %q: %w", s, err)
		}
		out = append(out, p)
	}
	return out, nil
}

var errNotPrefix = errors.New("not an IP address or CIDR prefix")

// parsePrefix parses one CIDR prefix or address (a host prefix).
func parsePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, errNotPrefix
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, errNotPrefix
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return normalize(p)
}

// normalize masks p and turns an IPv4-mapped IPv6 prefix into IPv4, so
// that it matches the unmapped addresses Allows compares.
func normalize(p netip.Prefix) (netip.Prefix, error) {
	if !p.IsValid() {
		return netip.Prefix{}, errNotPrefix
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, errors.New("IPv4-mapped prefix shorter than /96")
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// defaults is the list written when the file is missing: loopback and
// the private ranges, each with why.
var defaults = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("127.0.0.0/8"), "IPv4 loopback"},
	{netip.MustParsePrefix("::1/128"), "IPv6 loopback"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private network (RFC 1918)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private network (RFC 1918)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private network (RFC 1918)"},
	{netip.MustParsePrefix("fc00::/7"), "unique local IPv6 (RFC 4193)"},
}

const header = `# certkeeper IP allow-list: only clients from these addresses reach the
# web UI and the API. One CIDR prefix (10.0.0.0/8) or address (192.0.2.7)
# per line; '#' starts a comment. Changes apply within seconds; a broken
# file is logged and the previous list stays in force. Delete the file to
# get the default list back at the next start.
`

// Format renders prefixes as an allow-list file, after a comment header.
func Format(prefixes []netip.Prefix) string {
	var b strings.Builder
	b.WriteString(header)
	for _, p := range prefixes {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func defaultFile() string {
	var b strings.Builder
	b.WriteString(header)
	for _, d := range defaults {
		fmt.Fprintf(&b, "%-16s # %s\n", d.prefix, d.why)
	}
	return b.String()
}
