package catalogue

import (
	"context"
	"errors"
	"sort"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Requirements say what a certificate needs. The zero value is met by
// every product.
type Requirements struct {
	// ValidationLevel is the level needed. "DV", "OV" and "EV" are
	// minimums on the public scale DV < OV < EV (an EV product meets an OV
	// need). "private" is exact: only a built-in CA's product meets it,
	// and a private product meets no public level. Empty accepts any.
	ValidationLevel inventory.ValidationLevel
	// Wildcard needs a product that issues wildcard names.
	Wildcard bool
	// Names is how many names the certificate carries; zero or one fits
	// every product.
	Names int
	// ValidityDays is the validity wanted; zero fits every product.
	ValidityDays int
	// Issuer, when set, keeps only that issuer's products.
	Issuer string
}

// RequirementsOf returns what definition d's certificate needs: its
// stated requirements, with as many names as it has SANs unless it states
// a number.
func RequirementsOf(d *inventory.Definition) Requirements {
	req := d.Requirements
	names := req.Names
	if names == 0 {
		names = len(d.SANs)
	}
	return Requirements{ValidationLevel: inventory.ValidationLevel(req.ValidationLevel), Wildcard: req.Wildcard,
		Names: names, ValidityDays: req.ValidityDays, Issuer: req.Issuer}
}

// Match is a product that meets the requirements, with its issuer.
type Match struct {
	Issuer  inventory.Issuer
	Product inventory.Product
}

// levelRank orders levels for sorting: private, DV, OV, EV.
var levelRank = map[inventory.ValidationLevel]int{
	inventory.LevelPrivate: 0, inventory.LevelDV: 1, inventory.LevelOV: 2, inventory.LevelEV: 3,
}

// Select returns the products that meet every requirement, the closest
// level first (the cheapest fit, as a rule), then by issuer and product
// name. Products of built-in CAs that are no longer active are left out.
// An unknown issuer, an unknown level or a negative number is an error.
func (s *Service) Select(ctx context.Context, r Requirements) ([]Match, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	issuers, err := s.selectable(ctx, r.Issuer)
	if err != nil {
		return nil, err
	}
	products, err := s.store.ListProducts(ctx, 0)
	if err != nil {
		return nil, err
	}
	var out []Match
	for _, p := range products {
		i, ok := issuers[p.IssuerID]
		if ok && r.met(&p) {
			out = append(out, Match{Issuer: i, Product: p})
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		pa, pb := out[a].Product, out[b].Product
		if ra, rb := levelRank[pa.ValidationLevel], levelRank[pb.ValidationLevel]; ra != rb {
			return ra < rb
		}
		if out[a].Issuer.Name != out[b].Issuer.Name {
			return out[a].Issuer.Name < out[b].Issuer.Name
		}
		return pa.Name < pb.Name
	})
	return out, nil
}

func (r *Requirements) check() error {
	switch {
	case r.ValidationLevel != "" && !r.ValidationLevel.Valid():
		return invalid("validation_level", "unknown validation level %q (want DV, OV, EV or private)", r.ValidationLevel)
	case r.Names < 0:
		return invalid("names", "number of names %d is negative", r.Names)
	case r.ValidityDays < 0:
		return invalid("validity_days", "validity %d days is negative", r.ValidityDays)
	}
	return nil
}

// met reports whether p meets r.
func (r *Requirements) met(p *inventory.Product) bool {
	switch {
	case r.Wildcard && !p.Wildcard:
		return false
	case p.MaxNames > 0 && r.Names > p.MaxNames:
		return false
	case p.MaxValidityDays > 0 && r.ValidityDays > p.MaxValidityDays:
		return false
	}
	return levelMet(r.ValidationLevel, p.ValidationLevel)
}

func levelMet(want, have inventory.ValidationLevel) bool {
	switch {
	case want == "":
		return true
	case want == inventory.LevelPrivate || have == inventory.LevelPrivate:
		return want == have
	}
	return levelRank[have] >= levelRank[want]
}

// selectable returns the issuers whose products may be selected, by ID:
// all but built-in CAs that are not active, or only the one named.
func (s *Service) selectable(ctx context.Context, name string) (map[int64]inventory.Issuer, error) {
	if name != "" {
		if _, err := s.Issuer(ctx, name); err != nil {
			return nil, err
		}
	}
	issuers, err := s.store.ListIssuers(ctx)
	if err != nil {
		return nil, err
	}
	cas, err := s.store.ListCAs(ctx)
	if err != nil && !errors.Is(err, inventory.ErrNotFound) {
		return nil, err
	}
	active := map[int64]bool{}
	for _, ca := range cas {
		active[ca.ID] = ca.Status == inventory.CAActive
	}
	out := map[int64]inventory.Issuer{}
	for _, i := range issuers {
		if (name == "" || i.Name == name) && (i.Kind != inventory.IssuerBuiltinCA || active[i.CAID]) {
			out[i.ID] = i
		}
	}
	return out, nil
}
