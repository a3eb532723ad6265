package api

import (
	"net/http"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/catalogue"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func (a *API) listIssuers(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Catalogue.Issuers(r.Context())
	if err != nil {
		return err
	}
	out := client.IssuerList{Items: make([]client.Issuer, len(list))}
	for i := range list {
		out.Items[i] = issuerOut(&list[i])
	}
	return ok(w, out)
}

func (a *API) createIssuer(w http.ResponseWriter, r *http.Request) error {
	var in client.Issuer
	if err := decode(r, &in); err != nil {
		return err
	}
	i, err := a.Catalogue.AddIssuer(r.Context(), actor(r), inventory.Issuer{Name: in.Name,
		Kind: inventory.IssuerKind(in.Kind), URL: in.URL, Notes: in.Notes})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, issuerOut(i))
}

// issuer loads the issuer of the path's {id}.
func (a *API) issuer(r *http.Request) (*inventory.Issuer, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	i, err := a.Catalogue.IssuerByID(r.Context(), id)
	return i, missing(err, "issuer", id)
}

func (a *API) getIssuer(w http.ResponseWriter, r *http.Request) error {
	i, err := a.issuer(r)
	if err != nil {
		return err
	}
	return ok(w, issuerOut(i))
}

// updateIssuer changes the name, URL and notes; kind and CA are kept.
func (a *API) updateIssuer(w http.ResponseWriter, r *http.Request) error {
	cur, err := a.issuer(r)
	if err != nil {
		return err
	}
	var in client.Issuer
	if err := decode(r, &in); err != nil {
		return err
	}
	i, err := a.Catalogue.EditIssuer(r.Context(), actor(r), cur.Name, func(i *inventory.Issuer) {
		i.Name, i.URL, i.Notes = in.Name, in.URL, in.Notes
	})
	if err != nil {
		return err
	}
	return ok(w, issuerOut(i))
}

func (a *API) listProducts(w http.ResponseWriter, r *http.Request) error {
	i, err := a.issuer(r)
	if err != nil {
		return err
	}
	list, err := a.Catalogue.Products(r.Context(), i.Name)
	if err != nil {
		return err
	}
	out := client.ProductList{Items: make([]client.Product, len(list))}
	for k := range list {
		out.Items[k] = productOut(&list[k])
	}
	return ok(w, out)
}

func productIn(in *client.Product, p *inventory.Product) {
	p.Name, p.ValidationLevel, p.Wildcard = in.Name, inventory.ValidationLevel(in.ValidationLevel), in.Wildcard
	p.MaxNames, p.MaxValidityDays, p.URL, p.Notes = in.MaxNames, in.MaxValidityDays, in.URL, in.Notes
}

func (a *API) createProduct(w http.ResponseWriter, r *http.Request) error {
	i, err := a.issuer(r)
	if err != nil {
		return err
	}
	var in client.Product
	if err := decode(r, &in); err != nil {
		return err
	}
	var p inventory.Product
	productIn(&in, &p)
	added, err := a.Catalogue.AddProduct(r.Context(), actor(r), i.Name, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, productOut(added))
}

func (a *API) updateProduct(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.Catalogue.ProductByID(r.Context(), id); err != nil {
		return missing(err, "product", id)
	}
	var in client.Product
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.Catalogue.EditProductByID(r.Context(), actor(r), id, func(p *inventory.Product) { productIn(&in, p) })
	if err != nil {
		return err
	}
	return ok(w, productOut(p))
}

func (a *API) selectProducts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := catalogue.Requirements{ValidationLevel: inventory.ValidationLevel(q.Get("validation_level")), Issuer: q.Get("issuer")}
	wild, err := queryBool(r, "wildcard")
	if err != nil {
		return err
	}
	req.Wildcard = wild != nil && *wild
	if req.Names, err = queryInt(r, "names"); err != nil {
		return err
	}
	if req.ValidityDays, err = queryInt(r, "validity_days"); err != nil {
		return err
	}
	ms, err := a.Catalogue.Select(r.Context(), req)
	if err != nil {
		return err
	}
	return ok(w, matchesOut(ms))
}

func (a *API) listAccounts(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Catalogue.VendorAccounts(r.Context())
	if err != nil {
		return err
	}
	out := client.VendorAccountList{Items: make([]client.VendorAccount, len(list))}
	for i := range list {
		out.Items[i] = accountOut(&list[i])
	}
	return ok(w, out)
}

func (a *API) createAccount(w http.ResponseWriter, r *http.Request) error {
	var in client.VendorAccountInput
	if err := decode(r, &in); err != nil {
		return err
	}
	i, err := a.Catalogue.IssuerByID(r.Context(), in.IssuerID)
	if err != nil {
		return missingField(err, "issuer_id", "issuer", in.IssuerID)
	}
	n := catalogue.NewAccount{Name: in.Name, Username: in.Username, Email: in.Email, URL: in.URL, Notes: in.Notes}
	if in.Password != nil {
		n.Password = *in.Password
	}
	acct, err := a.Catalogue.AddVendorAccount(r.Context(), actor(r), i.Name, n)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, accountOut(acct))
}

func (a *API) getAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	acct, err := a.Catalogue.VendorAccount(r.Context(), id)
	if err != nil {
		return missing(err, "vendor account", id)
	}
	return ok(w, accountOut(acct))
}

// updateAccount changes a vendor account; its name and issuer never
// change (the sealed password is bound to the name).
func (a *API) updateAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in client.VendorAccountInput
	if err := decode(r, &in); err != nil {
		return err
	}
	acct, err := a.Catalogue.EditVendorAccount(r.Context(), actor(r), id, catalogue.AccountChange{Name: in.Name,
		IssuerID: in.IssuerID, Username: in.Username, Password: in.Password, Email: in.Email, URL: in.URL, Notes: in.Notes})
	if err != nil {
		return missing(err, "vendor account", id)
	}
	return ok(w, accountOut(acct))
}
