package acquisition

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// choice is an issuer and one of its products.
type choice struct {
	issuer  *inventory.Issuer
	product *inventory.Product
}

func (c choice) String() string {
	return fmt.Sprintf("issuer %s, product %s", c.issuer.Name, c.product.Name)
}

// choose resolves the issuer and product named (either may be "") for d.
// A renewal for which neither names an issuer starts from the
// definition's own (see renewalIssuer).
func (s *Service) choose(ctx context.Context, d *inventory.Definition, kind inventory.AcquisitionKind, issuer, product string) (choice, error) {
	var i *inventory.Issuer
	var err error
	if kind == inventory.AcquisitionRenewal && issuer == "" && d.Requirements.Issuer == "" {
		i, product, err = s.renewalIssuer(ctx, d, product)
	} else {
		i, err = s.resolveIssuer(ctx, d, issuer)
	}
	if err != nil {
		return choice{}, err
	}
	p, err := s.resolveProduct(ctx, i, product)
	if err != nil {
		return choice{}, err
	}
	if err := fits(d, p); err != nil {
		return choice{}, err
	}
	return choice{issuer: i, product: p}, nil
}

// resolveIssuer returns the issuer named, else the definition's required
// issuer, else the default CA's, and checks that processes can use it.
func (s *Service) resolveIssuer(ctx context.Context, d *inventory.Definition, name string) (*inventory.Issuer, error) {
	required := d.Requirements.Issuer
	var i *inventory.Issuer
	var err error
	switch {
	case name != "" && required != "" && name != required:
		return nil, inventory.Invalid("issuer", "definition %q requires issuer %q, not %q", d.Name, required, name)
	case name != "" || required != "":
		name = cmp.Or(name, required)
		i, err = s.st.IssuerByName(ctx, name)
		err = unknown(err, "issuer", "no issuer %q", name)
	default:
		i, err = s.defaultIssuer(ctx)
	}
	if err != nil {
		return nil, err
	}
	return i, s.usable(ctx, i)
}

// defaultIssuer returns the issuer standing for the default CA, asking
// the catalogue to add it when it is missing.
func (s *Service) defaultIssuer(ctx context.Context) (*inventory.Issuer, error) {
	c, err := s.st.DefaultCA(ctx)
	if err != nil {
		return nil, unknown(err, "issuer", "no issuer given, and there is no default CA to use")
	}
	i, err := s.issuerOfCA(ctx, c.ID)
	if errors.Is(err, inventory.ErrNotFound) && s.cfg.Catalogue != nil {
		if err := s.cfg.Catalogue.SyncBuiltin(ctx); err != nil {
			return nil, err
		}
		i, err = s.issuerOfCA(ctx, c.ID)
	}
	return i, unknown(err, "issuer", "the default CA %q is not in the issuer catalogue yet; name an issuer", c.Name)
}

func (s *Service) issuerOfCA(ctx context.Context, caID int64) (*inventory.Issuer, error) {
	list, err := s.st.ListIssuers(ctx)
	if err != nil {
		return nil, err
	}
	for _, i := range list {
		if i.Kind == inventory.IssuerBuiltinCA && i.CAID == caID {
			return &i, nil
		}
	}
	return nil, inventory.ErrNotFound
}

// usable refuses ACME issuers and issuers of CAs that sign nothing.
func (s *Service) usable(ctx context.Context, i *inventory.Issuer) error {
	switch i.Kind {
	case inventory.IssuerManualVendor:
		return nil
	case inventory.IssuerACME:
		return inventory.Invalid("issuer", "%q is an ACME issuer; acquisition processes do not use ACME yet", i.Name)
	}
	c, err := s.st.GetCA(ctx, i.CAID)
	if err != nil {
		return fmt.Errorf("acquisition: issuer %q: CA: %w", i.Name, err)
	}
	if c.Status != inventory.CAActive {
		return inventory.Invalid("issuer", "CA %q of issuer %q is %s and signs nothing", c.Name, i.Name, c.Status)
	}
	return nil
}

// resolveProduct returns the product named at i, or i's only product.
func (s *Service) resolveProduct(ctx context.Context, i *inventory.Issuer, name string) (*inventory.Product, error) {
	list, err := s.st.ListProducts(ctx, i.ID)
	if err != nil {
		return nil, err
	}
	for k := range list {
		if list[k].Name == name || (name == "" && len(list) == 1) {
			return &list[k], nil
		}
	}
	switch {
	case len(list) == 0:
		return nil, inventory.Invalid("product", "issuer %q offers no product yet; add one", i.Name)
	case name == "":
		return nil, inventory.Invalid("product", "issuer %q offers several products; choose one of %s", i.Name, productNames(list))
	}
	return nil, inventory.Invalid("product", "issuer %q has no product %q; choose one of %s", i.Name, name, productNames(list))
}

func productNames(list []inventory.Product) string {
	out := make([]string, len(list))
	for k, p := range list {
		out[k] = p.Name
	}
	return strings.Join(out, ", ")
}

// fits refuses a product that cannot meet the definition's requirements.
func fits(d *inventory.Definition, p *inventory.Product) error {
	r := d.Requirements
	n := max(r.Names, len(wanted(d).all()))
	switch {
	case !levelMet(inventory.ValidationLevel(r.ValidationLevel), p.ValidationLevel):
		return inventory.Invalid("product", "%q is %s; the definition requires %s", p.Name, p.ValidationLevel, r.ValidationLevel)
	case hasWildcard(d) && !p.Wildcard:
		return inventory.Invalid("product", "%q issues no wildcard names; the definition has one", p.Name)
	case p.MaxNames > 0 && n > p.MaxNames:
		return inventory.Invalid("product", "%q covers at most %d names; the definition has %d", p.Name, p.MaxNames, n)
	case p.MaxValidityDays > 0 && r.ValidityDays > p.MaxValidityDays:
		return inventory.Invalid("product", "%q is valid at most %d days; the definition wants %d", p.Name, p.MaxValidityDays, r.ValidityDays)
	}
	return nil
}

// levelRank orders the public validation levels.
var levelRank = map[inventory.ValidationLevel]int{inventory.LevelDV: 1, inventory.LevelOV: 2, inventory.LevelEV: 3}

// levelMet reports whether a product of level have meets a need for
// want: public levels are minimums, a private product meets none.
func levelMet(want, have inventory.ValidationLevel) bool {
	return want == "" || (levelRank[have] > 0 && levelRank[have] >= levelRank[want])
}

func hasWildcard(d *inventory.Definition) bool {
	for _, n := range wanted(d).dns {
		if strings.HasPrefix(n, "*.") {
			return true
		}
	}
	return false
}

// ChooseIssuer changes the issuer and product of a process still in
// csr_ready.
func (s *Service) ChooseIssuer(ctx context.Context, actor string, id int64, issuer, product string) (*Process, error) {
	a, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := requireState(a, "processes in csr_ready can change issuer", inventory.StateCSRReady); err != nil {
		return nil, err
	}
	d, err := s.st.GetDefinition(ctx, a.DefinitionID)
	if err != nil {
		return nil, err
	}
	c, err := s.choose(ctx, d, a.Kind, issuer, product)
	if err != nil {
		return nil, err
	}
	a.IssuerID, a.ProductID = c.issuer.ID, c.product.ID
	if err := s.updateAudited(ctx, a, event{actor, "acquisition.choose_issuer", c.String()}, s.step(actor, "issuer_chosen", c.String())); err != nil {
		return nil, err
	}
	return s.process(ctx, a)
}
