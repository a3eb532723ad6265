package trust

import (
	"crypto/x509"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

const day = 24 * time.Hour

// validity reports the leaf's validity period against now (RFC 5280, section
// 4.1.2.5: a certificate is valid from notBefore to notAfter inclusive) and
// any expired intermediate among the served certificates. A served
// self-signed certificate is a root that clients ignore in favour of their
// own copy, so its expiry is not reported.
func (p *Policy) validity(chain []*x509.Certificate, now time.Time) []Finding {
	fs := leafValidity(chain[0], now, p.expiresSoon())
	for _, c := range chain[1:] {
		if now.After(c.NotAfter) && !inventory.IsSelfSigned(c) {
			fs = append(fs, Finding{Expired, "intermediate " + name(c) + " expired " + ago(now.Sub(c.NotAfter)) + " (" + date(c.NotAfter) + ")"})
		}
	}
	return fs
}

func leafValidity(leaf *x509.Certificate, now time.Time, soon time.Duration) []Finding {
	switch left := leaf.NotAfter.Sub(now); {
	case left < 0:
		return []Finding{{Expired, name(leaf) + " expired " + ago(-left) + " (" + date(leaf.NotAfter) + ")"}}
	case now.Before(leaf.NotBefore):
		return []Finding{{NotYetValid, name(leaf) + " is not valid until " + date(leaf.NotBefore) + " (in " + span(leaf.NotBefore.Sub(now)) + ")"}}
	case left < soon:
		return []Finding{{ExpiresSoon, name(leaf) + " expires in " + span(left) + " (" + date(leaf.NotAfter) + ")"}}
	}
	return nil
}

// name names a certificate in a message by its subject common name, or,
// lacking one, its first DNS name or its whole subject.
func name(c *x509.Certificate) string {
	switch {
	case c.Subject.CommonName != "":
		return "certificate " + quote(c.Subject.CommonName)
	case len(c.DNSNames) > 0:
		return "certificate " + quote(c.DNSNames[0])
	}
	return "certificate " + quote(c.Subject.String())
}

// names lists the names a leaf is valid for, for a mismatch message.
func names(c *x509.Certificate) string {
	var ns []string
	for _, n := range c.DNSNames {
		ns = append(ns, quote(n))
	}
	for _, ip := range c.IPAddresses {
		ns = append(ns, ip.String())
	}
	if len(ns) == 0 {
		return "no DNS or IP subject alternative names"
	}
	return strings.Join(ns, ", ")
}

func quote(s string) string { return strconv.Quote(s) }

func date(t time.Time) string { return t.UTC().Format(time.DateOnly) }

func ago(d time.Duration) string {
	if d < time.Minute {
		return "just now"
	}
	return span(d) + " ago"
}

// span says a duration in the largest whole unit: days, hours or minutes.
func span(d time.Duration) string {
	switch {
	case d >= day:
		return plural(int(d/day), "day")
	case d >= time.Hour:
		return plural(int(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int(d/time.Minute), "minute")
	}
	return "less than a minute"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
