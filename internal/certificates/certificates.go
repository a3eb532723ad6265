// Package certificates reads the stored certificates: the filtered
// listing and its count, a certificate with its known chain, and a certificate with its
// chain encoded for download. Adding certificates is the importer's and
// the acquisition service's work; revoking them the revocation service's.
package certificates

import (
	"context"
	"errors"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/bundle"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Store is what the service reads; the inventory store is one.
type Store interface {
	bundle.Store
	ListCertificates(ctx context.Context, f inventory.CertificateFilter, p inventory.Page) (*inventory.CertificatePage, error)
	CountCertificates(ctx context.Context, f inventory.CertificateFilter) (int, error)
	ListCAs(ctx context.Context) ([]inventory.CA, error)
}

// Service reads certificates. Make one with New.
type Service struct {
	st Store
}

// New returns the service over st.
func New(st Store) *Service { return &Service{st: st} }

// List returns one page of the certificates f selects.
func (s *Service) List(ctx context.Context, f inventory.CertificateFilter, p inventory.Page) (*inventory.CertificatePage, error) {
	return s.st.ListCertificates(ctx, f, p)
}

// Count returns how many certificates f selects, over every page.
func (s *Service) Count(ctx context.Context, f inventory.CertificateFilter) (int, error) {
	return s.st.CountCertificates(ctx, f)
}

// Chain returns certificate id followed by its known issuers, leaf first.
// An unknown certificate gives an error wrapping inventory.ErrNotFound.
func (s *Service) Chain(ctx context.Context, id int64) ([]inventory.Certificate, error) {
	chain, err := s.st.Chain(ctx, id)
	if err == nil && len(chain) == 0 {
		err = fmt.Errorf("certificates: no certificate %d: %w", id, inventory.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return chain, nil
}

// Encode returns certificate id followed by its known issuers, without a
// key, encoded as t. An unknown certificate gives an error wrapping
// inventory.ErrNotFound.
func (s *Service) Encode(ctx context.Context, id int64, t format.Target) ([]byte, error) {
	b, err := bundle.Certificates(ctx, s.st, id)
	if err != nil {
		return nil, err
	}
	return format.Encode(b, t, format.EncodeOptions{})
}

// IssuingCA returns the ID of the certkeeper CA that issued c, or 0 when
// none did: c is self-signed, its issuer is unknown to the inventory, or
// the issuer is not one of certkeeper's CAs. Only such a CA can revoke c.
func (s *Service) IssuingCA(ctx context.Context, c *inventory.Certificate) (int64, error) {
	if c.IssuerID == 0 || c.SelfSigned {
		return 0, nil
	}
	cas, err := s.st.ListCAs(ctx)
	if err != nil && !errors.Is(err, inventory.ErrNotFound) {
		return 0, err
	}
	for _, ca := range cas {
		if ca.CertificateID == c.IssuerID {
			return ca.ID, nil
		}
	}
	return 0, nil
}
