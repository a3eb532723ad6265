package webtls

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// ensureDefault loads the stored default certificate, or issues a new one
// when none is stored or the stored one is due or misses a name.
func (m *Manager) ensureDefault(ctx context.Context) error {
	c, err := m.st.Load(ctx)
	var reason string
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		reason = "none stored: " + err.Error()
	case err != nil:
		return fmt.Errorf("webtls: load default certificate: %w", err)
	default:
		if err := withLeaf(c); err != nil {
			return fmt.Errorf("webtls: stored default certificate: %w", err)
		}
		reason = m.reissueReason(c.Leaf)
	}
	if reason == "" {
		m.def = c
		return nil
	}
	return m.issueDefault(ctx, reason)
}

// reissueReason says why leaf must be replaced, or "" when it serves.
func (m *Manager) reissueReason(leaf *x509.Certificate) string {
	if !m.cfg.Now().Before(m.renewAt(leaf)) {
		return "due for renewal"
	}
	if missing := missingNames(leaf, m.names); len(missing) > 0 {
		return "does not cover " + strings.Join(missing, ", ")
	}
	return ""
}

// renewAt is when leaf is due: RenewBefore (default a third of the
// lifetime, at most half) before it expires.
func (m *Manager) renewAt(leaf *x509.Certificate) time.Time {
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	before := m.cfg.RenewBefore
	if before <= 0 {
		before = life / 3
	}
	before = min(before, life/2)
	return leaf.NotAfter.Add(-before)
}

// missingNames returns the names leaf does not carry (exact DNS names,
// case-insensitive, and IP addresses; wildcards do not count).
func missingNames(leaf *x509.Certificate, names []string) []string {
	var missing []string
	for _, n := range names {
		if a, err := netip.ParseAddr(n); err == nil {
			if !slices.ContainsFunc(leaf.IPAddresses, func(ip net.IP) bool {
				b, ok := netip.AddrFromSlice(ip)
				return ok && b.Unmap() == a
			}) {
				missing = append(missing, n)
			}
			continue
		}
		if !slices.ContainsFunc(leaf.DNSNames, func(d string) bool { return strings.EqualFold(d, n) }) {
			missing = append(missing, n)
		}
	}
	return missing
}

// issueDefault issues and stores a new default certificate.
func (m *Manager) issueDefault(ctx context.Context, reason string) error {
	c, err := m.iss.Issue(ctx, m.names)
	if err != nil {
		return fmt.Errorf("webtls: issue default certificate: %w", err)
	}
	if err := withLeaf(c); err != nil {
		return fmt.Errorf("webtls: issued default certificate: %w", err)
	}
	if err := m.st.Save(ctx, c); err != nil {
		return fmt.Errorf("webtls: save default certificate: %w", err)
	}
	m.def = c
	m.log.Info("default web certificate issued", "reason", reason, "fingerprint", inventory.SHA256Hex(c.Leaf.Raw),
		"names", m.names, "not_after", c.Leaf.NotAfter)
	return nil
}

// withLeaf checks that c holds a certificate and a key, and sets c.Leaf
// when it is not set.
func withLeaf(c *tls.Certificate) error {
	if c == nil || len(c.Certificate) == 0 || c.PrivateKey == nil {
		return errors.New("no certificate or no key")
	}
	if c.Leaf != nil {
		return nil
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return err
	}
	c.Leaf = leaf
	return nil
}
