package client

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// Issuer is a source of certificates: builtin-ca, manual-vendor or acme.
type Issuer struct {
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	// CAID is the built-in CA a builtin-ca issuer stands for.
	CAID  int64  `json:"ca_id,omitempty"`
	URL   string `json:"url,omitempty"`
	Notes string `json:"notes,omitempty"`
}

// IssuerList lists issuers in ID order.
type IssuerList struct {
	Items []Issuer `json:"items"`
}

// Product is a kind of certificate an issuer offers.
type Product struct {
	ID       int64  `json:"id,omitempty"`
	IssuerID int64  `json:"issuer_id,omitempty"`
	Name     string `json:"name"`
	// ValidationLevel is private, DV, OV or EV.
	ValidationLevel string `json:"validation_level"`
	Wildcard        bool   `json:"wildcard,omitempty"`
	// MaxNames and MaxValidityDays are limits; 0 means none.
	MaxNames        int    `json:"max_names,omitempty"`
	MaxValidityDays int    `json:"max_validity_days,omitempty"`
	URL             string `json:"url,omitempty"`
	Notes           string `json:"notes,omitempty"`
}

// ProductList lists products in ID order.
type ProductList struct {
	Items []Product `json:"items"`
}

// ProductQuery is what SelectProducts must meet. The zero value is met by
// every product.
type ProductQuery struct {
	ValidationLevel string
	Wildcard        bool
	Names           int
	ValidityDays    int
	// Issuer names an issuer to keep only its products.
	Issuer string
}

// ProductMatch is a product that meets a query, with its issuer.
type ProductMatch struct {
	Issuer  Issuer  `json:"issuer"`
	Product Product `json:"product"`
}

// ProductMatchList lists matches, the closest level first.
type ProductMatchList struct {
	Items []ProductMatch `json:"items"`
}

// VendorAccount is a login at a vendor's web site. Its password is never
// returned.
type VendorAccount struct {
	ID          int64     `json:"id"`
	IssuerID    int64     `json:"issuer_id"`
	Name        string    `json:"name"`
	Username    string    `json:"username,omitempty"`
	HasPassword bool      `json:"has_password"`
	Email       string    `json:"email,omitempty"`
	URL         string    `json:"url,omitempty"`
	Notes       string    `json:"notes,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// VendorAccountInput creates or changes a vendor account. The name and
// issuer of an account cannot change.
type VendorAccountInput struct {
	IssuerID int64  `json:"issuer_id"`
	Name     string `json:"name"`
	Username string `json:"username,omitempty"`
	// Password is stored sealed. In an update, nil keeps the stored one
	// and "" removes it.
	Password *string `json:"password,omitempty"`
	Email    string  `json:"email,omitempty"`
	URL      string  `json:"url,omitempty"`
	Notes    string  `json:"notes,omitempty"`
}

// VendorAccountList lists accounts in ID order.
type VendorAccountList struct {
	Items []VendorAccount `json:"items"`
}

// ListIssuers returns every issuer.
func (c *Client) ListIssuers(ctx context.Context) (*IssuerList, error) {
	var out IssuerList
	return &out, c.do(ctx, call{method: "GET", path: path("issuers"), out: &out})
}

// CreateIssuer adds a manual-vendor or acme issuer (admin).
func (c *Client) CreateIssuer(ctx context.Context, i Issuer) (*Issuer, error) {
	var out Issuer
	return &out, c.do(ctx, call{method: "POST", path: path("issuers"), in: i, out: &out})
}

// GetIssuer returns an issuer.
func (c *Client) GetIssuer(ctx context.Context, id int64) (*Issuer, error) {
	var out Issuer
	return &out, c.do(ctx, call{method: "GET", path: path("issuers", id), out: &out})
}

// UpdateIssuer changes an issuer's name, URL and notes (admin).
func (c *Client) UpdateIssuer(ctx context.Context, id int64, i Issuer) (*Issuer, error) {
	var out Issuer
	return &out, c.do(ctx, call{method: "PUT", path: path("issuers", id), in: i, out: &out})
}

// ListProducts returns an issuer's products.
func (c *Client) ListProducts(ctx context.Context, issuerID int64) (*ProductList, error) {
	var out ProductList
	return &out, c.do(ctx, call{method: "GET", path: path("issuers", issuerID, "products"), out: &out})
}

// CreateProduct adds a product to an issuer (admin).
func (c *Client) CreateProduct(ctx context.Context, issuerID int64, p Product) (*Product, error) {
	var out Product
	return &out, c.do(ctx, call{method: "POST", path: path("issuers", issuerID, "products"), in: p, out: &out})
}

// UpdateProduct changes a product (admin); its issuer cannot change.
func (c *Client) UpdateProduct(ctx context.Context, id int64, p Product) (*Product, error) {
	var out Product
	return &out, c.do(ctx, call{method: "PUT", path: path("products", id), in: p, out: &out})
}

// SelectProducts returns the products that meet q, the closest fit first.
func (c *Client) SelectProducts(ctx context.Context, q ProductQuery) (*ProductMatchList, error) {
	v := url.Values{}
	setNonZero(v, "validation_level", q.ValidationLevel)
	if q.Wildcard {
		v.Set("wildcard", "true")
	}
	setNonZero(v, "names", strconv.Itoa(q.Names))
	setNonZero(v, "validity_days", strconv.Itoa(q.ValidityDays))
	setNonZero(v, "issuer", q.Issuer)
	var out ProductMatchList
	return &out, c.do(ctx, call{method: "GET", path: path("products", "select"), query: v, out: &out})
}

// ListVendorAccounts returns every vendor account, without passwords.
func (c *Client) ListVendorAccounts(ctx context.Context) (*VendorAccountList, error) {
	var out VendorAccountList
	return &out, c.do(ctx, call{method: "GET", path: path("vendor-accounts"), out: &out})
}

// CreateVendorAccount adds a vendor account (admin).
func (c *Client) CreateVendorAccount(ctx context.Context, in VendorAccountInput) (*VendorAccount, error) {
	var out VendorAccount
	return &out, c.do(ctx, call{method: "POST", path: path("vendor-accounts"), in: in, out: &out})
}

// GetVendorAccount returns a vendor account, without its password.
func (c *Client) GetVendorAccount(ctx context.Context, id int64) (*VendorAccount, error) {
	var out VendorAccount
	return &out, c.do(ctx, call{method: "GET", path: path("vendor-accounts", id), out: &out})
}

// UpdateVendorAccount changes a vendor account (admin).
func (c *Client) UpdateVendorAccount(ctx context.Context, id int64, in VendorAccountInput) (*VendorAccount, error) {
	var out VendorAccount
	return &out, c.do(ctx, call{method: "PUT", path: path("vendor-accounts", id), in: in, out: &out})
}
