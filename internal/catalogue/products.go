package catalogue

import (
	"context"
	"fmt"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Products returns the products of the issuer called issuer, or every
// product when issuer is empty, in ID order.
func (s *Service) Products(ctx context.Context, issuer string) ([]inventory.Product, error) {
	if issuer == "" {
		return s.store.ListProducts(ctx, 0)
	}
	i, err := s.Issuer(ctx, issuer)
	if err != nil {
		return nil, err
	}
	return s.store.ListProducts(ctx, i.ID)
}

// AddProduct adds p to the issuer called issuer.
func (s *Service) AddProduct(ctx context.Context, actor, issuer string, p inventory.Product) (*inventory.Product, error) {
	i, err := s.Issuer(ctx, issuer)
	if err != nil {
		return nil, err
	}
	p.ID, p.IssuerID = 0, i.ID
	if err := checkProduct(i, &p); err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutProduct(ctx, &p); err != nil {
			return conflict(err, "issuer %q has a product %q", i.Name, p.Name)
		}
		return s.audit(ctx, tx, actor, "product.create", inventory.KindProduct, p.ID, productName(i, &p), productSummary(&p))
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// EditProduct applies edit to the product called name of the issuer
// called issuer and stores the result. Its ID and issuer cannot change.
func (s *Service) EditProduct(ctx context.Context, actor, issuer, name string, edit func(*inventory.Product)) (*inventory.Product, error) {
	i, err := s.Issuer(ctx, issuer)
	if err != nil {
		return nil, err
	}
	p, err := s.product(ctx, i, name)
	if err != nil {
		return nil, err
	}
	id := p.ID
	edit(p)
	p.ID, p.IssuerID = id, i.ID
	if err := checkProduct(i, p); err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.UpdateProduct(ctx, p); err != nil {
			return conflict(err, "issuer %q has a product %q", i.Name, p.Name)
		}
		return s.audit(ctx, tx, actor, "product.update", inventory.KindProduct, p.ID, productName(i, p), productSummary(p))
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ProductByID returns product id. An unknown product gives
// inventory.ErrNotFound.
func (s *Service) ProductByID(ctx context.Context, id int64) (*inventory.Product, error) {
	return s.store.GetProduct(ctx, id)
}

// EditProductByID is EditProduct for product id, whatever its issuer.
func (s *Service) EditProductByID(ctx context.Context, actor string, id int64, edit func(*inventory.Product)) (*inventory.Product, error) {
	p, err := s.store.GetProduct(ctx, id)
	if err != nil {
		return nil, err
	}
	i, err := s.store.GetIssuer(ctx, p.IssuerID)
	if err != nil {
		return nil, err
	}
	return s.EditProduct(ctx, actor, i.Name, p.Name, edit)
}

func (s *Service) product(ctx context.Context, i *inventory.Issuer, name string) (*inventory.Product, error) {
	list, err := s.store.ListProducts(ctx, i.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		if p.Name == name {
			return &p, nil
		}
	}
	return nil, fmt.Errorf("catalogue: issuer %q has no product %q: %w", i.Name, name, inventory.ErrNotFound)
}

// checkProduct validates p, a product of i. Private products belong to
// built-in CAs and built-in CAs offer only private products.
func checkProduct(i *inventory.Issuer, p *inventory.Product) error {
	p.Name = strings.TrimSpace(p.Name)
	switch {
	case p.Name == "":
		return invalid("name", "product name is empty")
	case !p.ValidationLevel.Valid():
		return invalid("validation_level", "unknown validation level %q (want DV, OV, EV or private)", p.ValidationLevel)
	case p.MaxNames < 0:
		return invalid("max_names", "product %q: maximum names %d is negative", p.Name, p.MaxNames)
	case p.MaxValidityDays < 0:
		return invalid("max_validity_days", "product %q: maximum validity %d days is negative", p.Name, p.MaxValidityDays)
	case (p.ValidationLevel == inventory.LevelPrivate) != (i.Kind == inventory.IssuerBuiltinCA):
		return invalid("validation_level", "product %q: level private is for built-in CAs only, and they offer nothing else", p.Name)
	}
	return nil
}

func productName(i *inventory.Issuer, p *inventory.Product) string {
	return i.Name + "/" + p.Name
}

func productSummary(p *inventory.Product) string {
	return fmt.Sprintf("level %s, wildcard %t, max names %d, max days %d", p.ValidationLevel, p.Wildcard,
		p.MaxNames, p.MaxValidityDays)
}
