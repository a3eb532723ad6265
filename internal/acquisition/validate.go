package acquisition

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// validate finds the certificate of the process's key among certs and
// verifies its chain; it returns the leaf and the chain, leaf first, up
// to a trusted root.
func (s *Service) validate(ctx context.Context, a *inventory.Acquisition, certs []*x509.Certificate) (*x509.Certificate, []*x509.Certificate, error) {
	key, err := s.st.GetKey(ctx, a.KeyID)
	if err != nil {
		return nil, nil, fmt.Errorf("acquisition: process %d: key: %w", a.ID, err)
	}
	leaf, err := matchLeaf(certs, key.SPKISHA256)
	if err != nil {
		return nil, nil, err
	}
	chain, err := s.verify(ctx, leaf, certs)
	if err != nil {
		return nil, nil, err
	}
	return leaf, chain, nil
}

// matchLeaf returns the end-entity certificate for the public key with
// SHA-256 spki, the latest expiring when there are several.
func matchLeaf(certs []*x509.Certificate, spki string) (*x509.Certificate, error) {
	var leaf, other *x509.Certificate
	for _, c := range certs {
		switch {
		case c.IsCA:
		case inventory.SHA256Hex(c.RawSubjectPublicKeyInfo) != spki:
			if other == nil {
				other = c
			}
		case leaf == nil || c.NotAfter.After(leaf.NotAfter):
			leaf = c
		}
	}
	switch {
	case leaf != nil:
		return leaf, nil
	case other == nil:
		return nil, inventory.Invalid("data", "holds only CA certificates, none for this process's key")
	}
	return nil, inventory.Invalid("data", "the certificate does not match this process's key (its public key SHA-256 is %s, the process's %s)",
		inventory.SHA256Hex(other.RawSubjectPublicKeyInfo), spki)
}

// verify builds the leaf's chain through the uploaded certificates and
// the inventory's CA certificates up to a root of the trust store
// (Config.Trust), at the service's clock and for serverAuth (a leaf
// without extended key usage is valid for any), and returns the shortest
// chain. Certificates of the upload or the inventory only help build the
// chain: a root is trusted because an Admin decided so, never because it
// was uploaded or imported.
func (s *Service) verify(ctx context.Context, leaf *x509.Certificate, uploaded []*x509.Certificate) ([]*x509.Certificate, error) {
	roots, err := s.trustedRoots(ctx)
	if err != nil {
		return nil, err
	}
	pool, err := s.inventoryCAs(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range uploaded {
		if c != leaf {
			pool.AddCert(c)
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Intermediates: pool, Roots: roots,
		CurrentTime: s.cfg.Now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return nil, inventory.Invalid("data", "the certificate's chain does not verify: %s", chainReason(err))
	}
	best := chains[0]
	for _, c := range chains[1:] {
		if len(c) < len(best) {
			best = c
		}
	}
	return best, nil
}

// inventoryCAs returns a pool of the inventory's valid CA certificates
// that are not self-signed, to build chains through.
func (s *Service) inventoryCAs(ctx context.Context) (*x509.CertPool, error) {
	intermediates := x509.NewCertPool()
	f := inventory.CertificateFilter{CAOnly: true, Status: inventory.StatusValid, At: s.cfg.Now()}
	p := inventory.Page{Limit: inventory.MaxPageSize}
	for {
		page, err := s.st.ListCertificates(ctx, f, p)
		if err != nil {
			return nil, err
		}
		for _, rec := range page.Items {
			if c, err := x509.ParseCertificate(rec.DER); err == nil && !rec.SelfSigned {
				intermediates.AddCert(c)
			}
		}
		if page.Next == "" {
			return intermediates, nil
		}
		p.After = page.Next
	}
}

// trustedRoots returns the roots of Config.Trust, or the system roots
// when it is nil (an empty pool when the system has none).
func (s *Service) trustedRoots(ctx context.Context) (*x509.CertPool, error) {
	if s.cfg.Trust != nil {
		roots, err := s.cfg.Trust.Pool(ctx)
		if err != nil {
			return nil, fmt.Errorf("acquisition: trust store: %w", err)
		}
		return roots, nil
	}
	if sys, err := x509.SystemCertPool(); err == nil {
		return sys, nil
	}
	return x509.NewCertPool(), nil
}

// chainReason explains a verification failure; an unknown authority is
// named, with what would fix it.
func chainReason(err error) string {
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) && ua.Cert != nil {
		return fmt.Sprintf("no trusted root reached: the issuer %q of %q is neither uploaded, a CA certificate in the inventory, nor a root of the trust store: import the vendor's intermediate, or have an Admin mark the vendor's root as trusted (certkeeper trust add CERT-ID)",
			ua.Cert.Issuer.CommonName, ua.Cert.Subject.CommonName)
	}
	return err.Error()
}
