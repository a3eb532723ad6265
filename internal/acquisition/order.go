package acquisition

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Limits on a recorded order.
const (
	MaxOrderNumberLength = 128
	MaxOrderNotesLength  = 4000
)

// RecordOrder records the vendor order of a process in csr_ready (or
// corrects the order of one in ordered).
func (s *Service) RecordOrder(ctx context.Context, actor string, id int64, o OrderInput) (*Process, error) {
	p, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	a := &p.Acquisition
	if err := requireState(a, "processes in csr_ready or ordered can record an order",
		inventory.StateCSRReady, inventory.StateOrdered); err != nil {
		return nil, err
	}
	if p.Issuer.Kind != inventory.IssuerManualVendor {
		return nil, stateError(a, "issuer %s is not a vendor ordered from by hand", p.Issuer.Name)
	}
	order, product, err := s.checkOrder(ctx, p, o)
	if err != nil {
		return nil, err
	}
	detail := orderDetail(order, product, a.State == inventory.StateOrdered)
	a.Order, a.ProductID, a.State = order, product.ID, inventory.StateOrdered
	if err := s.updateAudited(ctx, a, event{actor, "acquisition.order", detail}, s.step(actor, "ordered", detail)); err != nil {
		return nil, err
	}
	return s.process(ctx, a)
}

// checkOrder validates o for process p and returns the order to record
// and the product ordered.
func (s *Service) checkOrder(ctx context.Context, p *Process, o OrderInput) (*inventory.Order, *inventory.Product, error) {
	number, notes := strings.TrimSpace(o.Number), strings.TrimSpace(o.Notes)
	if err := checkNumber(number); err != nil {
		return nil, nil, err
	}
	if len(notes) > MaxOrderNotesLength {
		return nil, nil, inventory.Invalid("notes", "are %d characters; the limit is %d", len(notes), MaxOrderNotesLength)
	}
	date, err := s.orderDate(o.Date)
	if err != nil {
		return nil, nil, err
	}
	account, err := s.orderAccount(ctx, p.Issuer, strings.TrimSpace(o.VendorAccount))
	if err != nil {
		return nil, nil, err
	}
	product := p.Product
	if o.Product != "" || product == nil {
		if product, err = s.resolveProduct(ctx, p.Issuer, o.Product); err != nil {
			return nil, nil, err
		}
		if err := fits(p.Definition, product); err != nil {
			return nil, nil, err
		}
	}
	return &inventory.Order{VendorAccountID: account, Number: number, Date: date, ProductID: product.ID, Notes: notes},
		product, nil
}

func checkNumber(n string) error {
	switch {
	case n == "":
		return inventory.Invalid("number", "is empty; give the vendor's order number")
	case len(n) > MaxOrderNumberLength:
		return inventory.Invalid("number", "is %d characters; the limit is %d", len(n), MaxOrderNumberLength)
	case strings.IndexFunc(n, unicode.IsControl) >= 0:
		return inventory.Invalid("number", "must be one line of text")
	}
	return nil
}

// orderDate is d as a UTC day, today when zero; a day after today is
// refused.
func (s *Service) orderDate(d time.Time) (time.Time, error) {
	today := s.now().Truncate(24 * time.Hour)
	if d.IsZero() {
		return today, nil
	}
	d = d.UTC().Truncate(24 * time.Hour)
	if d.After(today.Add(24 * time.Hour)) {
		return time.Time{}, inventory.Invalid("date", "%s is in the future", d.Format(time.DateOnly))
	}
	return d, nil
}

// orderAccount returns the ID of the vendor account named at issuer i;
// "" is allowed, as zero, when i has no accounts.
func (s *Service) orderAccount(ctx context.Context, i *inventory.Issuer, name string) (int64, error) {
	all, err := s.st.ListVendorAccounts(ctx)
	if err != nil {
		return 0, err
	}
	var names []string
	for _, a := range all {
		switch {
		case a.Name == name && a.IssuerID == i.ID:
			return a.ID, nil
		case a.Name == name:
			return 0, inventory.Invalid("vendor_account", "account %q is not an account at issuer %s", name, i.Name)
		case a.IssuerID == i.ID:
			names = append(names, a.Name)
		}
	}
	switch {
	case name == "" && len(names) == 0:
		return 0, nil
	case name == "":
		return 0, inventory.Invalid("vendor_account", "is empty; choose the account ordered with: %s", strings.Join(names, ", "))
	case len(names) == 0:
		return 0, inventory.Invalid("vendor_account", "no account %q; issuer %s has none", name, i.Name)
	}
	return 0, inventory.Invalid("vendor_account", "no account %q; choose one of %s", name, strings.Join(names, ", "))
}

func orderDetail(o *inventory.Order, p *inventory.Product, correction bool) string {
	s := fmt.Sprintf("order %s of %s, product %s", o.Number, o.Date.Format(time.DateOnly), p.Name)
	if o.VendorAccountID != 0 {
		s += fmt.Sprintf(", vendor account %d", o.VendorAccountID)
	}
	if correction {
		s = "order corrected: " + s
	}
	return s
}
