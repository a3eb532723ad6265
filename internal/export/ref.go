package export

import (
	"context"
	"fmt"
	"strconv"

	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Find returns the certificate ref names: its ID or its SHA-256
// fingerprint (64 hexadecimal digits).
func (s *Service) Find(ctx context.Context, ref string) (*inventory.Certificate, error) {
	if len(ref) == 64 {
		return s.store.CertificateBySHA256(ctx, ref)
	}
	id, err := strconv.ParseInt(ref, 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("%q is neither a certificate ID nor a SHA-256 fingerprint", ref)
	}
	return s.store.GetCertificate(ctx, id)
}

// CertificateByRef finds the certificate ref names (see Find) and exports
// it as Certificate does.
func (s *Service) CertificateByRef(ctx context.Context, actor, ref, target string, withKey bool) (*format.Bundle, error) {
	c, err := s.Find(ctx, ref)
	if err != nil {
		return nil, err
	}
	return s.Certificate(ctx, actor, c, target, withKey)
}
