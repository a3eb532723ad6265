package catalogue

import (
	"context"
	"errors"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// BuiltinProduct is the name of the product of a built-in CA issuer.
const BuiltinProduct = "private"

// SyncBuiltin makes sure every active CA appears as a "builtin-ca" issuer
// named after it, with one "private" product without name or validity
// limits (the CA's profiles decide those). It is idempotent and safe to
// run from several processes at once; issuers of CAs no longer active stay
// but are never selected. Changes are audited as SystemActor.
func (s *Service) SyncBuiltin(ctx context.Context) error {
	cas, err := s.store.ListCAs(ctx)
	if err != nil {
		return err
	}
	issuers, err := s.store.ListIssuers(ctx)
	if err != nil {
		return err
	}
	byCA := map[int64]inventory.Issuer{}
	for _, i := range issuers {
		if i.CAID != 0 {
			byCA[i.CAID] = i
		}
	}
	for _, ca := range cas {
		if ca.Status != inventory.CAActive {
			continue
		}
		i, ok := byCA[ca.ID]
		if !ok {
			p, err := s.putBuiltinIssuer(ctx, ca)
			if err != nil {
				return err
			}
			i = *p
		}
		if err := s.ensureBuiltinProduct(ctx, &i); err != nil {
			return err
		}
	}
	return nil
}

// putBuiltinIssuer stores the issuer for ca, named after it, or "ca:"
// and its name when another issuer has that name; or it returns the one
// another process stored first.
func (s *Service) putBuiltinIssuer(ctx context.Context, ca inventory.CA) (*inventory.Issuer, error) {
	for _, name := range []string{ca.Name, "ca:" + ca.Name} {
		i := &inventory.Issuer{Name: name, Kind: inventory.IssuerBuiltinCA, CAID: ca.ID, Notes: "certkeeper's own CA"}
		err := s.store.InTx(ctx, func(tx inventory.Store) error {
			if err := tx.PutIssuer(ctx, i); err != nil {
				return err
			}
			return s.audit(ctx, tx, SystemActor, "issuer.create", inventory.KindIssuer, i.ID, i.Name, "kind builtin-ca for CA "+ca.Name)
		})
		if errors.Is(err, inventory.ErrConflict) {
			got, gerr := s.store.IssuerByName(ctx, name)
			if gerr == nil && got.CAID == ca.ID {
				return got, nil
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		return i, nil
	}
	return nil, fmt.Errorf("catalogue: CA %q: issuers %q and %q exist: %w", ca.Name, ca.Name, "ca:"+ca.Name,
		inventory.ErrConflict)
}

func (s *Service) ensureBuiltinProduct(ctx context.Context, i *inventory.Issuer) error {
	list, err := s.store.ListProducts(ctx, i.ID)
	if err != nil || len(list) > 0 {
		return err
	}
	p := &inventory.Product{IssuerID: i.ID, Name: BuiltinProduct, ValidationLevel: inventory.LevelPrivate,
		Wildcard: true}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutProduct(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, tx, SystemActor, "product.create", inventory.KindProduct, p.ID, productName(i, p), productSummary(p))
	})
	if errors.Is(err, inventory.ErrConflict) {
		return nil
	}
	return err
}
