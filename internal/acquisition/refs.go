package acquisition

import (
	"context"
	"errors"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Refs name by ID what a request through the API picks; zero picks
// nothing.
type Refs struct {
	DefinitionID, VendorAccountID, IssuerID, ProductID int64
}

// Names are the names of Refs, which the service's operations take; ""
// for what was not picked.
type Names struct {
	Definition, VendorAccount, Issuer, Product string
}

// Resolve returns the names of r, checked in the order definition, vendor
// account, product, issuer. A product alone implies its issuer. An
// unknown ID, or a product not of the issuer given, is an
// inventory.FieldError on that ID's field (definition_id,
// vendor_account_id, product_id, issuer_id).
func (s *Service) Resolve(ctx context.Context, r Refs) (Names, error) {
	var n Names
	if r.DefinitionID != 0 {
		d, err := s.st.GetDefinition(ctx, r.DefinitionID)
		if err != nil {
			return n, unknownRef(err, "definition_id", "definition", r.DefinitionID)
		}
		n.Definition = d.Name
	}
	if r.VendorAccountID != 0 {
		acct, err := s.st.GetVendorAccount(ctx, r.VendorAccountID)
		if err != nil {
			return n, unknownRef(err, "vendor_account_id", "vendor account", r.VendorAccountID)
		}
		n.VendorAccount = acct.Name
	}
	var err error
	n.Issuer, n.Product, err = s.issuerProduct(ctx, r.IssuerID, r.ProductID)
	return n, err
}

// issuerProduct names an issuer and a product given by ID (either may be
// 0); a product alone implies its issuer.
func (s *Service) issuerProduct(ctx context.Context, issuerID, productID int64) (issuer, product string, err error) {
	if productID != 0 {
		p, err := s.st.GetProduct(ctx, productID)
		if err != nil {
			return "", "", unknownRef(err, "product_id", "product", productID)
		}
		if issuerID != 0 && p.IssuerID != issuerID {
			return "", "", inventory.Invalid("product_id", "product %d is not a product of issuer %d", productID, issuerID)
		}
		issuerID, product = p.IssuerID, p.Name
	}
	if issuerID != 0 {
		i, err := s.st.GetIssuer(ctx, issuerID)
		if err != nil {
			return "", "", unknownRef(err, "issuer_id", "issuer", issuerID)
		}
		issuer = i.Name
	}
	return issuer, product, nil
}

// unknownRef reports an unknown object named by ID as bad input in
// field.
func unknownRef(err error, field, kind string, id int64) error {
	if errors.Is(err, inventory.ErrNotFound) {
		return inventory.Invalid(field, "no %s %d", kind, id)
	}
	return err
}
