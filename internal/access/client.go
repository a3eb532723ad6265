package access

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies are the trusted reverse proxies. The zero value trusts none:
// the client is always the direct peer.
type Proxies []netip.Prefix

// trusted reports whether a is a trusted proxy.
func (p Proxies) trusted(a netip.Addr) bool { return allows(p, a) }

// ClientIP returns the address of the client behind r: the direct peer
// (r.RemoteAddr) unless the peer is a trusted proxy. Then it walks
// X-Forwarded-For from the right, skipping trusted proxies, and returns
// the first untrusted address (or the leftmost when all are trusted);
// without X-Forwarded-For it reads the "for" parameters of Forwarded
// (RFC 7239 section 5.2) the same way. An unparseable entry met on the
// walk makes it fall back to the peer. The result is unmapped (IPv4 as
// IPv4) and has no zone; it is invalid only when RemoteAddr is.
func (p Proxies) ClientIP(r *http.Request) netip.Addr {
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() || !p.trusted(peer) {
		return peer
	}
	hops, ok := forwardedFor(r.Header)
	if !ok || len(hops) == 0 {
		return peer
	}
	for i := len(hops) - 1; i > 0; i-- {
		if !p.trusted(hops[i]) {
			return hops[i]
		}
	}
	return hops[0]
}

// peerAddr parses "host:port", or a bare address as some test servers
// and transports give.
func peerAddr(remote string) netip.Addr {
	if ap, err := netip.ParseAddrPort(remote); err == nil {
		return clean(ap.Addr())
	}
	if a, err := netip.ParseAddr(remote); err == nil {
		return clean(a)
	}
	return netip.Addr{}
}

func clean(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }

// forwardedFor returns the hops of X-Forwarded-For, or of Forwarded's
// "for" parameters when there is no X-Forwarded-For, in header order.
// ok is false when an entry does not parse.
func forwardedFor(h http.Header) ([]netip.Addr, bool) {
	if xff := h.Values("X-Forwarded-For"); len(xff) > 0 {
		var hops []netip.Addr
		for _, v := range xff {
			for _, s := range strings.Split(v, ",") {
				a, ok := hopAddr(strings.TrimSpace(s))
				if !ok {
					return nil, false
				}
				hops = append(hops, a)
			}
		}
		return hops, true
	}
	return forwarded(h.Values("Forwarded"))
}

// forwarded reads the "for" parameter of each forwarded-element of the
// Forwarded header (RFC 7239 section 4); an element without one, or with
// an obfuscated or "unknown" node (section 6), does not parse.
func forwarded(values []string) ([]netip.Addr, bool) {
	var hops []netip.Addr
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			node, found := "", false
			for _, pair := range strings.Split(elem, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(pair), "=")
				if strings.EqualFold(k, "for") {
					node, found = strings.Trim(val, `"`), true
				}
			}
			a, ok := hopAddr(node)
			if !found || !ok {
				return nil, false
			}
			hops = append(hops, a)
		}
	}
	return hops, true
}

// hopAddr parses a forwarded address: "192.0.2.1", "2001:db8::1",
// "192.0.2.1:4711" or "[2001:db8::1]:4711" (RFC 7239 section 6).
func hopAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return clean(a), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return clean(ap.Addr()), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return clean(a), true
		}
	}
	return netip.Addr{}, false
}

type clientAddrKey struct{}

// ClientAddr returns the client address Guard computed for the request
// whose context ctx is; ok is false outside Guard.
func ClientAddr(ctx context.Context) (netip.Addr, bool) {
	a, ok := ctx.Value(clientAddrKey{}).(netip.Addr)
	return a, ok
}

// Guard refuses with 403 and a short plain-text body the requests whose
// client address (p.ClientIP) the list does not allow, logging each at
// Warn with the address, method and path (never the query). It passes
// the others to next, with the client address in the request context
// (see ClientAddr).
func (l *List) Guard(p Proxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := p.ClientIP(r)
		if !l.Allows(addr) {
			l.log.Warn("request refused by IP allow-list", "addr", addr.String(), "method", r.Method, "path", r.URL.Path)
			http.Error(w, "403 forbidden: your address is not in certkeeper's IP allow-list", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientAddrKey{}, addr)))
	})
}
