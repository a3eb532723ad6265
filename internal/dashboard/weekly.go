package dashboard

import (
	"context"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Counter counts certificates; the inventory store is one.
type Counter interface {
	CountCertificates(ctx context.Context, f inventory.CertificateFilter) (int, error)
}

// Weekly is the week-by-week expiry outlook of the timeline command.
type Weekly struct {
	// Expired counts the certificates already expired.
	Expired int
	// Weeks count the certificates expiring in each coming week.
	Weeks []Week
}

// Week is the number of certificates expiring in the seven days from
// Start.
type Week struct {
	Start time.Time
	Count int
}

// Weeks counts the certificates (leaf and CA, internal ones included)
// expired at now, and those expiring in each of the given number of
// seven-day periods from now on, one counting query each.
func Weeks(ctx context.Context, c Counter, now time.Time, weeks int) (*Weekly, error) {
	expired, err := c.CountCertificates(ctx, inventory.CertificateFilter{ExpiringBefore: now})
	if err != nil {
		return nil, err
	}
	out := &Weekly{Expired: expired}
	for w := range weeks {
		start := now.Add(time.Duration(w) * 7 * day)
		end := start.Add(7 * day)
		n, err := c.CountCertificates(ctx, inventory.CertificateFilter{ExpiringBefore: end, NotExpiredAt: start})
		if err != nil {
			return nil, err
		}
		out.Weeks = append(out.Weeks, Week{Start: start, Count: n})
	}
	return out, nil
}

// Weeks is the week-by-week outlook (see the Weeks function) from the
// service's present time, in UTC.
func (s *Service) Weeks(ctx context.Context, weeks int) (*Weekly, error) {
	return Weeks(ctx, s.certs, s.now().UTC(), weeks)
}
