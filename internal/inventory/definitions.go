package inventory

import (
	"context"
	"time"
)

// Subject is the distinguished name a definition asks for. Empty fields
// are left out of the certificate.
type Subject struct {
	CommonName         string `json:"cn,omitempty"`
	Organization       string `json:"o,omitempty"`
	OrganizationalUnit string `json:"ou,omitempty"`
	Locality           string `json:"l,omitempty"`
	Province           string `json:"st,omitempty"`
	Country            string `json:"c,omitempty"`
}

// Requirements are what an issuer must meet for a definition. The zero
// value asks for nothing in particular.
type Requirements struct {
	// Issuer names the wanted issuer (a CA or catalogue entry); "" means
	// any.
	Issuer string `json:"issuer,omitempty"`
	// ValidationLevel is "DV", "OV" or "EV"; "" means any.
	ValidationLevel string `json:"validation_level,omitempty"`
	// Wildcard allows wildcard SANs ("*.example.com").
	Wildcard bool `json:"wildcard,omitempty"`
	// Names is how many names the certificate must cover; 0 means the
	// number of SANs.
	Names int `json:"names,omitempty"`
	// ValidityDays is the wanted lifetime; 0 means the issuer's default.
	ValidityDays int `json:"validity_days,omitempty"`
}

// Renewal says when a definition's certificate is renewed. Exactly one
// field is set: a fixed number of days before expiry, or a fraction of
// the certificate's lifetime left.
type Renewal struct {
	DaysBefore       int     `json:"days_before,omitempty"`
	LifetimeFraction float64 `json:"lifetime_fraction,omitempty"`
}

// Definition describes a certificate that should exist: what it names,
// its key type, what the issuer must meet, who asked for it, where it is
// deployed and when it is renewed. Names are unique.
type Definition struct {
	ID      int64
	Name    string
	Subject Subject
	SANs    []string
	// KeyType is a key spec name: ecdsa-p256, ecdsa-p384, rsa-2048,
	// rsa-3072, rsa-4096 or ed25519 (the names of ca.KeySpec).
	KeyType      string
	Requirements Requirements
	Requester    string
	ContactEmail string
	// Targets names the servers the certificate is deployed to.
	Targets []string
	Renewal Renewal
	Labels  []string
	Notes   string
	// CurrentCertificateID is the certificate now in use; zero when none.
	CurrentCertificateID int64
	// Version counts changes, starting at 1; UpdateDefinition refuses a
	// write whose Version is not the stored one.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Document is a file kept in a definition's document folder (an order
// confirmation, a signed request form, ...).
type Document struct {
	ID           int64
	DefinitionID int64
	// Name is unique within the definition.
	Name string
	Size int64
	// Content is nil in lists.
	Content   []byte
	CreatedAt time.Time
}

// DefinitionFilter selects definitions. The zero value selects all.
type DefinitionFilter struct {
	// Label keeps definitions carrying this label.
	Label string
	// Text keeps definitions whose name, common name, SANs, requester or
	// notes contain this text (case-insensitive).
	Text string
	// CurrentCertificateID keeps the definitions whose current
	// certificate it is; 0 means any.
	CurrentCertificateID int64
}

// DefinitionPage is one page of definitions ordered by ID.
type DefinitionPage struct {
	Items []Definition
	// Next is the cursor for the following page; empty on the last page.
	Next string
}

// keyTypes maps key spec names to the algorithm and size they make.
var keyTypes = map[string]struct {
	alg  KeyAlgorithm
	bits int
}{
	"ecdsa-p256": {ECDSA, 256},
	"ecdsa-p384": {ECDSA, 384},
	"rsa-2048":   {RSA, 2048},
	"rsa-3072":   {RSA, 3072},
	"rsa-4096":   {RSA, 4096},
	"ed25519":    {Ed25519, 256},
}

// KeyTypeParts returns the algorithm and size of a key spec name, and
// false when the name is unknown.
func KeyTypeParts(keyType string) (KeyAlgorithm, int, bool) {
	k, ok := keyTypes[keyType]
	return k.alg, k.bits, ok
}

// KeyTypeOf returns the key spec name for an algorithm and size, or ""
// when no spec makes such a key.
func KeyTypeOf(alg KeyAlgorithm, bits int) string {
	for name, k := range keyTypes {
		if k.alg == alg && k.bits == bits {
			return name
		}
	}
	return ""
}

// DefinitionStore is the part of the Store contract that keeps
// certificate definitions and their document folders.
type DefinitionStore interface {
	// PutDefinition stores a new definition and sets d.ID, d.Version (1),
	// and d.CreatedAt and d.UpdatedAt when zero. A name in use gives
	// ErrConflict.
	PutDefinition(ctx context.Context, d *Definition) error
	// UpdateDefinition replaces every field of the stored definition d.ID
	// when its version equals d.Version, then increments d.Version and
	// sets d.UpdatedAt (to now when zero). A different stored version or
	// a name in use gives ErrConflict; an unknown ID ErrNotFound.
	UpdateDefinition(ctx context.Context, d *Definition) error
	GetDefinition(ctx context.Context, id int64) (*Definition, error)
	DefinitionByName(ctx context.Context, name string) (*Definition, error)
	ListDefinitions(ctx context.Context, f DefinitionFilter, p Page) (*DefinitionPage, error)
	// CountDefinitions returns how many definitions f selects, in one
	// query.
	CountDefinitions(ctx context.Context, f DefinitionFilter) (int, error)

	// PutDocument stores a new document and sets doc.ID, doc.Size and
	// doc.CreatedAt when zero. A name in use in the definition gives
	// ErrConflict; an unknown definition ErrNotFound.
	PutDocument(ctx context.Context, doc *Document) error
	// ListDocuments returns the definition's documents by name, without
	// their content.
	ListDocuments(ctx context.Context, definitionID int64) ([]Document, error)
	// GetDocument returns a document with its content, found by name.
	GetDocument(ctx context.Context, definitionID int64, name string) (*Document, error)
	// DeleteDocument removes a document; an unknown one gives ErrNotFound.
	DeleteDocument(ctx context.Context, definitionID int64, name string) error

	// DefinitionCertificates returns every definition that has a current
	// certificate, with that certificate's identity and validity, in
	// definition ID order, in one query.
	DefinitionCertificates(ctx context.Context) ([]DefinitionCertificate, error)
}

// DefinitionCertificate is a definition's current certificate as metrics
// and reports show it: no DER, no chain.
type DefinitionCertificate struct {
	DefinitionID  int64
	Definition    string
	CertificateID int64
	CommonName    string
	// Serial is the lowercase hex serial number; SHA256 the fingerprint.
	Serial    string
	SHA256    string
	NotBefore time.Time
	NotAfter  time.Time
	Revoked   bool
}
