package revocation

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// RefreshCRL signs and stores a new CRL of the CA (RFC 5280, section 5)
// listing every certificate it revoked that has not been expired for
// longer than Config.CRLValidity, and returns it. RFC 5280 section
// 5.1.2.6 lets an entry go once it has appeared on one regularly
// scheduled CRL issued after the certificate's expiry: the CRL current
// when it expires is replaced within CRLValidity by one that still lists
// it, and later CRLs leave it out, so CRLs do not grow forever. thisUpdate is now
// and nextUpdate is now + Config.CRLValidity; the CRL number comes from
// the inventory, so numbers increase strictly across instances (section
// 5.2.3).
//
// The number is drawn before the revocations are read. A CRL therefore
// lists every revocation committed before its number was drawn, and a
// revocation's own refresh draws a number after it committed: the
// highest-numbered CRL, which PutCRL keeps as the latest, never misses a
// revocation whose refresh finished.
func (s *Service) RefreshCRL(ctx context.Context, caID int64) (*inventory.CRL, error) {
	key, issuer, err := s.auth.Signer(ctx, caID)
	if err != nil {
		return nil, fmt.Errorf("revocation: CA %d: %w", caID, err)
	}
	number, err := s.st.NextCRLNumber(ctx, caID)
	if err != nil {
		return nil, fmt.Errorf("revocation: CA %d: CRL number: %w", caID, err)
	}
	revs, err := s.st.ListRevocations(ctx, caID)
	if err != nil {
		return nil, fmt.Errorf("revocation: CA %d: %w", caID, err)
	}
	now := s.now().Truncate(time.Second)
	crl := &inventory.CRL{CAID: caID, Number: number, ThisUpdate: now, NextUpdate: now.Add(s.cfg.CRLValidity)}
	if crl.DER, err = buildCRL(s.cfg.Rand, issuer, key, crl, unexpired(revs, now.Add(-s.cfg.CRLValidity))); err != nil {
		return nil, fmt.Errorf("revocation: CA %d: %w", caID, err)
	}
	if err := s.st.PutCRL(ctx, crl); err != nil {
		return nil, fmt.Errorf("revocation: CA %d: store CRL: %w", caID, err)
	}
	s.clearPending(caID)
	return crl, nil
}

// CurrentCRL returns the CA's latest CRL, making a new one when none was
// published yet or the latest has passed its nextUpdate.
func (s *Service) CurrentCRL(ctx context.Context, caID int64) (*inventory.CRL, error) {
	crl, err := s.st.LatestCRL(ctx, caID)
	switch {
	case errors.Is(err, inventory.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("revocation: CA %d: %w", caID, err)
	case s.now().Before(crl.NextUpdate):
		return crl, nil
	}
	return s.RefreshCRL(ctx, caID)
}

// unexpired returns the revocations of certificates that expired at or
// after since (or whose expiry is unknown), in order.
func unexpired(revs []inventory.Revocation, since time.Time) []inventory.Revocation {
	out := revs[:0:0]
	for _, r := range revs {
		if r.NotAfter.IsZero() || !r.NotAfter.Before(since) {
			out = append(out, r)
		}
	}
	return out
}

// buildCRL encodes and signs a version 2 CRL with the CRL number and
// authority key identifier extensions (RFC 5280, sections 5.2.1 and
// 5.2.3) and, per entry, the reason code when it is not unspecified
// (section 5.3.1 says to omit it then).
func buildCRL(rnd io.Reader, issuer *x509.Certificate, key crypto.Signer, c *inventory.CRL, revs []inventory.Revocation) ([]byte, error) {
	entries := make([]x509.RevocationListEntry, 0, len(revs))
	for _, r := range revs {
		serial, ok := new(big.Int).SetString(r.Serial, 16)
		if !ok {
			return nil, fmt.Errorf("certificate %d: stored serial %q is not hex", r.CertificateID, r.Serial)
		}
		entries = append(entries, x509.RevocationListEntry{
			SerialNumber: serial, RevocationTime: r.RevokedAt, ReasonCode: r.Reason,
		})
	}
	tmpl := &x509.RevocationList{
		Number:                    big.NewInt(c.Number),
		ThisUpdate:                c.ThisUpdate,
		NextUpdate:                c.NextUpdate,
		RevokedCertificateEntries: entries,
	}
	der, err := x509.CreateRevocationList(rnd, tmpl, issuer, key)
	if err != nil {
		return nil, fmt.Errorf("sign CRL: %w", err)
	}
	return der, nil
}
