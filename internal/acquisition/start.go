package acquisition

import (
	"context"
	"errors"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Start begins a process for a definition: it chooses the issuer and
// product, makes (or reuses) the key and makes the request.
func (s *Service) Start(ctx context.Context, actor string, o StartOptions) (*Process, error) {
	d, kind, err := s.startDefinition(ctx, o)
	if err != nil {
		return nil, err
	}
	c, err := s.choose(ctx, d, kind, o.Issuer, o.Product)
	if err != nil {
		return nil, err
	}
	k, err := s.processKey(ctx, d, o.ReuseKey)
	if err != nil {
		return nil, err
	}
	csr, err := s.makeCSR(ctx, d, k)
	if err != nil {
		return nil, err
	}
	now := s.now()
	a := &inventory.Acquisition{DefinitionID: d.ID, Kind: kind, State: inventory.StateCSRReady,
		IssuerID: c.issuer.ID, ProductID: c.product.ID, KeyID: k.rec.ID, CSRID: csr.ID,
		AutoSwitch: o.AutoSwitch, CreatedBy: actor, CreatedAt: now, UpdatedAt: now}
	steps := []inventory.AcquisitionStep{
		s.step(actor, "created", fmt.Sprintf("%s certificate for definition %s", kind, d.Name)),
		s.step(actor, k.action, k.detail),
		s.step(actor, "csr_created", fmt.Sprintf("request %d for %s", csr.ID, joinNames(csr.SANs))),
		s.step(actor, "issuer_chosen", c.String()),
	}
	summary := fmt.Sprintf("%s for definition %s; %s; %s", kind, d.Name, c, k.detail)
	err = s.st.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutAcquisition(ctx, a, steps...); err != nil {
			return openConflict(err, d)
		}
		return s.auditIn(ctx, tx, actor, "acquisition.start", a.ID, summary)
	})
	if err != nil {
		return nil, err
	}
	return s.process(ctx, a)
}

// startDefinition finds the definition, works out the kind and checks
// that no process is open for it.
func (s *Service) startDefinition(ctx context.Context, o StartOptions) (*inventory.Definition, inventory.AcquisitionKind, error) {
	if o.Definition == "" {
		return nil, "", inventory.Invalid("definition", "is empty; name the definition to acquire a certificate for")
	}
	d, err := s.st.DefinitionByName(ctx, o.Definition)
	if err != nil {
		return nil, "", unknown(err, "definition", "no definition %q", o.Definition)
	}
	if len(wanted(d).all()) == 0 {
		return nil, "", inventory.Invalid("definition", "%q names no host name or IP address to certify", d.Name)
	}
	kind, err := startKind(d, o.Kind)
	if err != nil {
		return nil, "", err
	}
	return d, kind, s.noOpenProcess(ctx, d)
}

// startKind is the kind asked for, or renewal when d has a current
// certificate and new when not.
func startKind(d *inventory.Definition, k inventory.AcquisitionKind) (inventory.AcquisitionKind, error) {
	switch {
	case k == "" && d.CurrentCertificateID != 0:
		return inventory.AcquisitionRenewal, nil
	case k == "":
		return inventory.AcquisitionNew, nil
	case !k.Valid():
		return "", inventory.Invalid("kind", "unknown kind %q (want new or renewal)", k)
	case k == inventory.AcquisitionRenewal && d.CurrentCertificateID == 0:
		return "", inventory.Invalid("kind", "definition %q has no current certificate to renew", d.Name)
	}
	return k, nil
}

// noOpenProcess refuses a definition with an open process; the store
// refuses it again should another start win a race.
func (s *Service) noOpenProcess(ctx context.Context, d *inventory.Definition) error {
	page, err := s.st.ListAcquisitions(ctx, inventory.AcquisitionFilter{DefinitionID: d.ID,
		States: inventory.OpenAcquisitionStates}, inventory.Page{Limit: 1})
	if err != nil {
		return err
	}
	if len(page.Items) > 0 {
		return kindErrorf(inventory.ErrConflict, "definition %s has an open process (%d, %s); finish or cancel it first",
			d.Name, page.Items[0].ID, page.Items[0].State)
	}
	return nil
}

func openConflict(err error, d *inventory.Definition) error {
	if errors.Is(err, inventory.ErrConflict) {
		return kindErrorf(inventory.ErrConflict, "definition %s has an open process; finish or cancel it first", d.Name)
	}
	return err
}
