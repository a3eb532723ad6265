package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/certkeeper/certkeeper/client"
)

// apiNames maps the names the command line takes to the IDs the API
// takes, and back for display, remembering what it looked up.
type apiNames struct {
	c           *client.Client
	issuers     map[int64]client.Issuer
	products    map[int64]map[int64]client.Product // by issuer, then ID
	definitions map[int64]string
	accounts    []client.VendorAccount
}

func newAPINames(c *client.Client) *apiNames {
	return &apiNames{c: c, products: map[int64]map[int64]client.Product{}, definitions: map[int64]string{}}
}

// definitionID returns the ID of the definition named name.
func (n *apiNames) definitionID(ctx context.Context, name string) (int64, error) {
	if name == "" {
		return 0, fmt.Errorf("give a definition name")
	}
	d, err := n.c.DefinitionByName(ctx, name)
	if client.IsNotFound(err) {
		return 0, fmt.Errorf("no definition %q (see \"certkeeper definition list\")", name)
	}
	if err != nil {
		return 0, err
	}
	n.definitions[d.ID] = d.Name
	return d.ID, nil
}

// definition returns the name of definition id, or "#ID" when it cannot
// be read.
func (n *apiNames) definition(ctx context.Context, id int64) string {
	if name, ok := n.definitions[id]; ok {
		return name
	}
	name := "#" + strconv.FormatInt(id, 10)
	if d, err := n.c.GetDefinition(ctx, id); err == nil {
		name = d.Name
	}
	n.definitions[id] = name
	return name
}

func (n *apiNames) loadIssuers(ctx context.Context) error {
	if n.issuers != nil {
		return nil
	}
	list, err := n.c.ListIssuers(ctx)
	if err != nil {
		return err
	}
	n.issuers = make(map[int64]client.Issuer, len(list.Items))
	for _, i := range list.Items {
		n.issuers[i.ID] = i
	}
	return nil
}

// issuerID returns the ID of the issuer named name.
func (n *apiNames) issuerID(ctx context.Context, name string) (int64, error) {
	if err := n.loadIssuers(ctx); err != nil {
		return 0, err
	}
	for _, i := range n.issuers {
		if i.Name == name {
			return i.ID, nil
		}
	}
	return 0, fmt.Errorf("no issuer %q (see \"certkeeper issuer list\")", name)
}

// issuer returns issuer id, or one named "#ID" when it is unknown.
func (n *apiNames) issuer(ctx context.Context, id int64) client.Issuer {
	if n.loadIssuers(ctx) == nil {
		if i, ok := n.issuers[id]; ok {
			return i
		}
	}
	return client.Issuer{ID: id, Name: "#" + strconv.FormatInt(id, 10)}
}

func (n *apiNames) loadProducts(ctx context.Context, issuerID int64) (map[int64]client.Product, error) {
	if m, ok := n.products[issuerID]; ok {
		return m, nil
	}
	list, err := n.c.ListProducts(ctx, issuerID)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]client.Product, len(list.Items))
	for _, p := range list.Items {
		m[p.ID] = p
	}
	n.products[issuerID] = m
	return m, nil
}

// productID returns the ID of the product named name of issuer issuerID.
func (n *apiNames) productID(ctx context.Context, issuerID int64, name string) (int64, error) {
	m, err := n.loadProducts(ctx, issuerID)
	if err != nil {
		return 0, err
	}
	for _, p := range m {
		if p.Name == name {
			return p.ID, nil
		}
	}
	return 0, fmt.Errorf("issuer %s has no product %q (see \"certkeeper product list\")", n.issuer(ctx, issuerID).Name, name)
}

// product returns the name of product id of issuer issuerID, or "-".
func (n *apiNames) product(ctx context.Context, issuerID, id int64) string {
	if id == 0 {
		return "-"
	}
	if m, err := n.loadProducts(ctx, issuerID); err == nil {
		if p, ok := m[id]; ok {
			return p.Name
		}
	}
	return "#" + strconv.FormatInt(id, 10)
}

// vendorAccountID returns the ID of the vendor account named name,
// preferring an account at issuer issuerID when names repeat.
func (n *apiNames) vendorAccountID(ctx context.Context, issuerID int64, name string) (int64, error) {
	if err := n.loadAccounts(ctx); err != nil {
		return 0, err
	}
	var found int64
	for _, acc := range n.accounts {
		if acc.Name != name {
			continue
		}
		if acc.IssuerID == issuerID {
			return acc.ID, nil
		}
		found = acc.ID
	}
	if found == 0 {
		return 0, fmt.Errorf("no vendor account %q (see \"certkeeper vendor-account list\")", name)
	}
	return found, nil
}

// vendorAccount returns the name of vendor account id, or "-".
func (n *apiNames) vendorAccount(ctx context.Context, id int64) string {
	if id == 0 {
		return "-"
	}
	if n.loadAccounts(ctx) == nil {
		for _, acc := range n.accounts {
			if acc.ID == id {
				return acc.Name
			}
		}
	}
	return "#" + strconv.FormatInt(id, 10)
}

func (n *apiNames) loadAccounts(ctx context.Context) error {
	if n.accounts != nil {
		return nil
	}
	list, err := n.c.ListVendorAccounts(ctx)
	if err != nil {
		return err
	}
	n.accounts = append([]client.VendorAccount{}, list.Items...)
	return nil
}
