package inventory

import (
	"context"
	"time"
)

// IssuerKind says how certificates are obtained from an issuer.
type IssuerKind string

// Issuer kinds.
const (
	// IssuerBuiltinCA is one of certkeeper's own private CAs.
	IssuerBuiltinCA IssuerKind = "builtin-ca"
	// IssuerManualVendor is a commercial CA ordered from by hand, through
	// its web site and a vendor account.
	IssuerManualVendor IssuerKind = "manual-vendor"
	// IssuerACME is a CA spoken to over ACME (RFC 8555).
	IssuerACME IssuerKind = "acme"
)

// Valid reports whether k is a known kind.
func (k IssuerKind) Valid() bool {
	return k == IssuerBuiltinCA || k == IssuerManualVendor || k == IssuerACME
}

// ValidationLevel is how thoroughly an issuer checks who asks for a
// certificate: "private" (a CA of one's own, trusted only where installed),
// "DV", "OV" or "EV".
type ValidationLevel string

// Validation levels.
const (
	LevelPrivate ValidationLevel = "private"
	LevelDV      ValidationLevel = "DV"
	LevelOV      ValidationLevel = "OV"
	LevelEV      ValidationLevel = "EV"
)

// Valid reports whether l is a known level.
func (l ValidationLevel) Valid() bool {
	return l == LevelPrivate || l == LevelDV || l == LevelOV || l == LevelEV
}

// Issuer is a source of certificates: a built-in CA, a vendor ordered from
// by hand, or an ACME CA. Names are unique.
type Issuer struct {
	ID   int64
	Name string
	Kind IssuerKind
	// CAID is the built-in CA the issuer stands for; zero for other kinds.
	// At most one issuer stands for a CA.
	CAID  int64
	URL   string
	Notes string
}

// Product is a kind of certificate an issuer sells or issues. Names are
// unique per issuer.
type Product struct {
	ID              int64
	IssuerID        int64
	Name            string
	ValidationLevel ValidationLevel
	Wildcard        bool
	// MaxNames is the most names (SANs) a certificate may carry; zero
	// means no limit.
	MaxNames int
	// MaxValidityDays is the longest validity offered; zero means no
	// limit.
	MaxValidityDays int
	URL             string
	Notes           string
}

// VendorAccount is a login at a vendor's web site. Names are unique.
type VendorAccount struct {
	ID       int64
	IssuerID int64
	Name     string
	Username string
	// SealedPassword is the password sealed by keys.Sealer; nil when none
	// was given.
	SealedPassword []byte
	Email          string
	URL            string
	Notes          string
	CreatedAt      time.Time
}

// CatalogueStore is the part of the Store contract that keeps issuers,
// their products and vendor accounts.
type CatalogueStore interface {
	// PutIssuer stores a new issuer and sets i.ID. A name, or a CAID, in
	// use gives ErrConflict.
	PutIssuer(ctx context.Context, i *Issuer) error
	// UpdateIssuer changes every field but the ID. An unknown ID gives
	// ErrNotFound, a name in use ErrConflict.
	UpdateIssuer(ctx context.Context, i *Issuer) error
	GetIssuer(ctx context.Context, id int64) (*Issuer, error)
	IssuerByName(ctx context.Context, name string) (*Issuer, error)
	// ListIssuers returns every issuer in ID order.
	ListIssuers(ctx context.Context) ([]Issuer, error)

	// PutProduct stores a new product and sets p.ID. An unknown issuer
	// gives ErrNotFound, a name in use at the issuer ErrConflict.
	PutProduct(ctx context.Context, p *Product) error
	// UpdateProduct changes every field but the ID and IssuerID. An
	// unknown ID gives ErrNotFound, a name in use ErrConflict.
	UpdateProduct(ctx context.Context, p *Product) error
	GetProduct(ctx context.Context, id int64) (*Product, error)
	// ListProducts returns the issuer's products, or every product when
	// issuerID is zero, in ID order.
	ListProducts(ctx context.Context, issuerID int64) ([]Product, error)

	// PutVendorAccount stores a new account and sets a.ID (and CreatedAt
	// when zero). An unknown issuer gives ErrNotFound, a name in use
	// ErrConflict.
	PutVendorAccount(ctx context.Context, a *VendorAccount) error
	// UpdateVendorAccount changes every field but the ID, IssuerID and
	// CreatedAt. An unknown ID gives ErrNotFound, a name in use
	// ErrConflict.
	UpdateVendorAccount(ctx context.Context, a *VendorAccount) error
	GetVendorAccount(ctx context.Context, id int64) (*VendorAccount, error)
	// ListVendorAccounts returns every account in ID order.
	ListVendorAccounts(ctx context.Context) ([]VendorAccount, error)
}
