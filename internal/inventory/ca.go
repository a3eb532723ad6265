package inventory

import (
	"context"
	"time"
)

// CAStatus is the state of a certificate authority.
type CAStatus string

// CA statuses.
const (
	// CAActive signs certificates.
	CAActive CAStatus = "active"
	// CAPending is a subordinate CA whose request awaits the enterprise
	// PKI's signed certificate ("ca activate").
	CAPending CAStatus = "pending"
	// CARetired signs nothing new; its CRL and OCSP stay published.
	CARetired CAStatus = "retired"
)

// CA is a certificate authority whose key certkeeper holds: a root, an
// issuing intermediate, an imported CA, or a subordinate of an outside PKI.
type CA struct {
	ID int64
	// Name is unique; people and commands refer to a CA by it.
	Name   string
	Status CAStatus
	// ParentID is the CA that signed this one, when certkeeper holds it;
	// zero for roots, imported and subordinate CAs.
	ParentID int64
	// KeyID is the CA's sealed private key.
	KeyID int64
	// CertificateID is the CA certificate; zero while pending.
	CertificateID int64
	// CSRID is the request of a subordinate CA; zero otherwise.
	CSRID int64
	// Policy limits the names this CA signs for.
	Policy NamePolicy
	// Issuance says who may request what; nil means
	// DefaultIssuancePolicy.
	Issuance *IssuancePolicy
	// Default marks the CA used when a request names none. At most one CA
	// is the default.
	Default   bool
	CreatedAt time.Time
}

// NamePolicy limits the names a CA signs for. The zero value permits
// everything.
type NamePolicy struct {
	// PermittedDNSDomains are domains a DNS name must equal or end in
	// ("example.com" permits "example.com" and "a.example.com").
	PermittedDNSDomains []string `json:"permitted_dns_domains,omitempty"`
	// PermittedIPRanges are CIDR ranges IP addresses must fall in.
	PermittedIPRanges []string `json:"permitted_ip_ranges,omitempty"`
}

// Issuance is one certificate a CA signed, recorded with its audit event
// in one transaction.
type Issuance struct {
	CAID        int64
	Certificate *Certificate
	// Audit, when set, is stored with the certificate; an empty Object is
	// filled in as the stored certificate (ObjectRef(KindCertificate, ID)).
	Audit *AuditEvent
	// Key, when set, is the certificate's generated private key (sealed):
	// it is stored in the same transaction, before the certificate, unless
	// a key with its SPKISHA256 exists, and its ID is filled in.
	Key *Key
}

// CAStore is the part of the Store contract that serves certificate
// authorities.
type CAStore interface {
	// PutCA stores a new CA and fills in its ID. A name already used gives
	// ErrConflict. When c.Default is set, no other CA stays the default.
	PutCA(ctx context.Context, c *CA) error
	// UpdateCA changes a CA's status, certificate, policy and default flag.
	UpdateCA(ctx context.Context, c *CA) error
	GetCA(ctx context.Context, id int64) (*CA, error)
	CAByName(ctx context.Context, name string) (*CA, error)
	// DefaultCA returns the default CA, or ErrNotFound.
	DefaultCA(ctx context.Context) (*CA, error)
	ListCAs(ctx context.Context) ([]CA, error)

	// ReserveSerials durably reserves serial numbers (lowercase hex) for a
	// CA before anything is signed with them. A serial ever reserved or
	// used by the CA gives ErrConflict and reserves none of the batch.
	ReserveSerials(ctx context.Context, caID int64, serials []string) error
	// RecordIssuances stores issued certificates (as PutCertificates does)
	// and their audit events in one transaction, marking each serial used.
	// It returns the certificate IDs in order. A serial not reserved for
	// the CA gives ErrConflict and records nothing.
	RecordIssuances(ctx context.Context, iss []Issuance) ([]int64, error)
}
