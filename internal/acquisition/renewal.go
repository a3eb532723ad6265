package acquisition

import (
	"context"
	"errors"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// renewalIssuer returns the issuer a renewal for which neither the caller
// nor the definition names one starts from, checked usable, and the
// product to ask for: those of the definition's latest completed process,
// else the built-in CA that issued its current certificate. A certificate
// from elsewhere (a vendor's, brought in by import) is not silently
// renewed by the default CA: the caller is asked to name the issuer.
// product, when given, replaces the earlier product.
func (s *Service) renewalIssuer(ctx context.Context, d *inventory.Definition, product string) (*inventory.Issuer, string, error) {
	last, err := s.lastCompleted(ctx, d.ID)
	if err != nil {
		return nil, "", err
	}
	var i *inventory.Issuer
	switch {
	case last != nil:
		if i, err = s.st.GetIssuer(ctx, last.IssuerID); err != nil {
			return nil, "", err
		}
		if product == "" {
			product, err = s.productName(ctx, last.ProductID)
		}
	default:
		i, err = s.issuerOfCurrent(ctx, d)
	}
	if err != nil {
		return nil, "", err
	}
	return i, product, s.usable(ctx, i)
}

// lastCompleted returns the definition's newest completed process, or nil.
func (s *Service) lastCompleted(ctx context.Context, defID int64) (*inventory.Acquisition, error) {
	f := inventory.AcquisitionFilter{DefinitionID: defID, States: []inventory.AcquisitionState{inventory.StateCompleted}}
	var last *inventory.Acquisition
	p := inventory.Page{Limit: inventory.MaxPageSize}
	for {
		page, err := s.st.ListAcquisitions(ctx, f, p)
		if err != nil {
			return nil, err
		}
		if n := len(page.Items); n > 0 {
			last = &page.Items[n-1]
		}
		if page.Next == "" {
			return last, nil
		}
		p.After = page.Next
	}
}

// productName returns the name of product id; "" when the product is
// gone (the caller then asks for one if the issuer has several).
func (s *Service) productName(ctx context.Context, id int64) (string, error) {
	p, err := s.st.GetProduct(ctx, id)
	if errors.Is(err, inventory.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return p.Name, nil
}

// issuerOfCurrent returns the issuer standing for the built-in CA that
// issued d's current certificate, or a field error naming the issuer to
// choose.
func (s *Service) issuerOfCurrent(ctx context.Context, d *inventory.Definition) (*inventory.Issuer, error) {
	cert, err := s.st.GetCertificate(ctx, d.CurrentCertificateID)
	if err != nil {
		return nil, err
	}
	if cert.IssuerID != 0 {
		issuers, err := s.st.ListIssuers(ctx)
		if err != nil {
			return nil, err
		}
		for k, i := range issuers {
			if i.Kind != inventory.IssuerBuiltinCA {
				continue
			}
			c, err := s.st.GetCA(ctx, i.CAID)
			if err != nil {
				return nil, err
			}
			if c.CertificateID == cert.IssuerID {
				return &issuers[k], nil
			}
		}
	}
	return nil, inventory.Invalid("issuer", "definition %q has no issuer and its current certificate comes from %q, not from one of certkeeper's CAs: name the issuer (and product) to renew it from, or set the definition's required issuer",
		d.Name, cert.Issuer)
}
