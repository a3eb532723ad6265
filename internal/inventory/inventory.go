// Package inventory holds certkeeper's domain types and the Store contract
// that every storage backend (SQLite, PostgreSQL) implements.
//
// The types describe the whole certificate lifecycle: private keys (always
// kept sealed), certificates and their issuer links, certificate signing
// requests, audit events, and the objects later stages fill in
// (definitions, acquisition and deployment processes, targets, check
// results, users). All times are UTC.
package inventory

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by every Store implementation. Callers test them with
// errors.Is.
var (
	// ErrNotFound means the requested object does not exist.
	ErrNotFound = errors.New("inventory: not found")
	// ErrConflict means a uniqueness rule or an optimistic-concurrency
	// version check refused the write.
	ErrConflict = errors.New("inventory: conflict")
	// ErrInvalid means the input was refused by a validation rule; nothing
	// was changed. Services wrap it (usually as a *FieldError) so that the
	// API can answer 422 rather than 500.
	ErrInvalid = errors.New("invalid input")
	// ErrBadCursor means a page cursor (Page.After) was not one the store
	// handed out.
	ErrBadCursor = errors.New("bad page cursor")
	// ErrState means the object is not in a state that allows the
	// operation (an acquisition already completed, ...).
	ErrState = errors.New("not allowed in the current state")
)

// FieldError is bad input in one named field. It matches ErrInvalid with
// errors.Is. Field uses the API's JSON names ("sans", "subject.cn").
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true for a FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Invalid returns a *FieldError for field with a formatted reason.
func Invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// KeyAlgorithm names a public-key algorithm: "rsa", "ecdsa" or "ed25519".
type KeyAlgorithm string

// Key algorithms.
const (
	RSA     KeyAlgorithm = "rsa"
	ECDSA   KeyAlgorithm = "ecdsa"
	Ed25519 KeyAlgorithm = "ed25519"
)

// Key is a private key kept in the inventory. It is an independent object:
// several certificates and requests may use the same key. The private
// material never leaves the store unsealed; Sealed holds it encrypted.
type Key struct {
	ID int64
	// SPKISHA256 is the lowercase hex SHA-256 of the DER SubjectPublicKeyInfo.
	// It is unique and is how keys are matched to certificates and CSRs.
	SPKISHA256 string
	Algorithm  KeyAlgorithm
	// Bits is the RSA modulus size or the EC curve size; 256 for Ed25519.
	Bits int
	// Sealed is the private key (PKCS#8 DER) encrypted by keys.Sealer.
	Sealed    []byte
	Labels    []string
	CreatedAt time.Time
}

// Certificate is an X.509 certificate known to the inventory, with the
// fields that are searched and shown pre-extracted from DER.
type Certificate struct {
	ID int64
	// SHA256 and SHA1 are lowercase hex fingerprints of DER, without colons.
	SHA256 string
	SHA1   string
	// Serial is the lowercase hex serial number.
	Serial     string
	Subject    string
	CommonName string
	Issuer     string
	SANs       []string
	NotBefore  time.Time
	NotAfter   time.Time
	IsCA       bool
	SelfSigned bool
	// SubjectKeyID and AuthorityKeyID are lowercase hex; empty when absent.
	SubjectKeyID       string
	AuthorityKeyID     string
	KeyAlgorithm       KeyAlgorithm
	KeyBits            int
	SignatureAlgorithm string
	// SPKISHA256 identifies the public key; it links the certificate to a Key.
	SPKISHA256 string
	// IssuerID links to the issuing certificate when it is in the inventory;
	// zero when unknown.
	IssuerID int64
	// KeyID links to the matching private key when it is in the inventory;
	// zero when unknown.
	KeyID int64
	DER   []byte
	// Source says where the certificate came from, e.g. "import:site.pfx".
	Source string
	Labels []string
	// Internal marks a certificate certkeeper issued for itself (its web
	// UI, agent endpoint, agents, OCSP responders) and renews on its own;
	// such certificates are left out of expiry counts and alerts.
	Internal  bool
	RevokedAt *time.Time
	CreatedAt time.Time
}

// Status is the lifecycle status of a certificate as of a given time.
type Status string

// Certificate statuses.
const (
	StatusValid       Status = "valid"
	StatusExpired     Status = "expired"
	StatusNotYetValid Status = "not_yet_valid"
	StatusRevoked     Status = "revoked"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusValid || s == StatusExpired || s == StatusNotYetValid || s == StatusRevoked
}

// StatusAt reports the certificate's status at time now.
func (c *Certificate) StatusAt(now time.Time) Status {
	switch {
	case c.RevokedAt != nil:
		return StatusRevoked
	case now.After(c.NotAfter):
		return StatusExpired
	case now.Before(c.NotBefore):
		return StatusNotYetValid
	}
	return StatusValid
}

// CSR is a certificate signing request kept in the inventory.
type CSR struct {
	ID         int64
	Subject    string
	SANs       []string
	SPKISHA256 string
	// KeyID links to the private key the request was made with; zero when
	// the key is not held (an outside CSR).
	KeyID     int64
	DER       []byte
	CreatedAt time.Time
}

// AuditEvent records one state change or sensitive read. Summary never
// contains secret material.
type AuditEvent struct {
	ID      int64
	Time    time.Time
	Actor   string
	Action  string
	Object  string
	Summary string
}

// CertificateFilter selects certificates. The zero value selects all.
type CertificateFilter struct {
	// ExpiringBefore, when non-zero, keeps certificates whose NotAfter is
	// before it (already expired ones included unless NotExpiredAt is set).
	ExpiringBefore time.Time
	// NotExpiredAt, when non-zero, drops certificates whose NotAfter is
	// before it.
	NotExpiredAt time.Time
	// Issuer keeps certificates whose issuer DN contains this text
	// (case-insensitive).
	Issuer string
	// Text keeps certificates whose subject, SANs, serial or fingerprint
	// contain this text (case-insensitive; colons are ignored for serials
	// and fingerprints). Texts of three characters or more use a trigram
	// index; shorter ones read every row.
	Text string
	// Status keeps certificates with this status at time At (now when At
	// is zero); "" means any.
	Status Status
	At     time.Time
	// KeyID keeps certificates made with this stored key.
	KeyID int64
	// Label keeps certificates carrying this label.
	Label string
	// CAOnly and LeafOnly restrict to CA or non-CA certificates.
	CAOnly   bool
	LeafOnly bool
	// InternalOnly and ExcludeInternal restrict to or leave out the
	// certificates certkeeper issued for itself (Certificate.Internal).
	InternalOnly    bool
	ExcludeInternal bool
}

// Page asks for one page of a keyset-paginated list. The zero value asks
// for the first page of DefaultPageSize items.
type Page struct {
	// After is the cursor returned with the previous page; empty for the
	// first page.
	After string
	// Limit is the page size; 0 means DefaultPageSize, and it is capped at
	// MaxPageSize.
	Limit int
}

// Page sizes.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// CertificatePage is one page of certificates ordered by NotAfter, then ID.
type CertificatePage struct {
	Items []Certificate
	// Next is the cursor for the following page; empty on the last page.
	Next string
}
