package web

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/access"
)

// Sign-in throttling per client address, on top of the per-user lock:
// a burst of loginBurst attempts, then one every loginEvery.
const (
	loginBurst = 10
	loginEvery = 6 * time.Second
	// maxTracked bounds the table; when full, idle entries are dropped.
	maxTracked = 10000
)

type bucket struct {
	tokens float64
	last   time.Time
}

// limiter is a token bucket per address.
type limiter struct {
	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
}

// allow takes a token for addr at now.
func (l *limiter) allow(addr netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[netip.Addr]*bucket{}
	}
	b, ok := l.buckets[addr]
	if !ok {
		if len(l.buckets) >= maxTracked {
			l.prune(now)
		}
		b = &bucket{tokens: loginBurst, last: now}
		l.buckets[addr] = b
	}
	b.tokens = min(loginBurst, b.tokens+now.Sub(b.last).Seconds()/loginEvery.Seconds())
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// prune drops buckets that have refilled.
func (l *limiter) prune(now time.Time) {
	for a, b := range l.buckets {
		if now.Sub(b.last) > loginBurst*loginEvery {
			delete(l.buckets, a)
		}
	}
}

// throttle refuses sign-in attempts beyond the rate from one address.
func (ui *UI) throttle(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, _ := netip.ParseAddr(clientAddr(r))
		if !ui.limiter.allow(addr, ui.Now()) {
			ui.Log.Warn("sign-in throttled", "addr", addr)
			w.Header().Set("Retry-After", "10")
			http.Error(w, "too many sign-in attempts from your address; wait a little and try again", http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clientAddr is the request's client address: the one the allow-list
// guard worked out (trusted proxies considered), else the peer.
func clientAddr(r *http.Request) string {
	if a, ok := access.ClientAddr(r.Context()); ok {
		return a.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
