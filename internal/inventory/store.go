package inventory

import (
	"context"
	"time"
)

// Store is the storage contract. Implementations (SQLite, PostgreSQL) MUST
// be safe for concurrent use, honour context cancellation, return
// ErrNotFound rather than a nil object, and store times in UTC.
type Store interface {
	CAStore
	RevocationStore
	UserStore
	CatalogueStore
	DefinitionStore
	AcquisitionStore
	SessionStore
	SettingsStore
	EmailStore
	DeployStore
	TrustStore
	ChannelStore
	AlertStore
	EndpointStore

	// PutKey stores a key unless one with the same SPKISHA256 exists; it
	// returns the stored key's ID and whether it was newly added. Storing a
	// key links every certificate and CSR with the same public key to it.
	PutKey(ctx context.Context, k *Key) (id int64, added bool, err error)
	GetKey(ctx context.Context, id int64) (*Key, error)
	KeyBySPKI(ctx context.Context, spkiSHA256 string) (*Key, error)
	ListKeys(ctx context.Context, p Page) ([]Key, string, error)
	// RewrapKeys replaces the sealed form of every key, one transaction.
	// rewrap receives the old sealed bytes and returns the new ones.
	RewrapKeys(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) (int, error)
	// SealedSamples returns a few secrets sealed under the master key
	// (private keys, vendor-account passwords, target secrets), enough to
	// tell whether a master key opens the inventory; none when nothing is
	// sealed.
	SealedSamples(ctx context.Context) ([][]byte, error)

	// PutCertificates stores certificates in one transaction, skipping those
	// whose SHA256 exists already (new labels are still added to them). It
	// ignores the ID, IssuerID and KeyID given and works the links out
	// itself: a certificate links to the key with its SPKISHA256, and to a
	// CA or self-signed certificate whose subject equals its issuer name
	// when their key identifiers match or either is absent (a key-ID match
	// wins, then the latest expiry); earlier-stored certificates link to a
	// new issuer too. A self-signed certificate has IssuerID 0. It returns,
	// per input, the stored ID and whether it was added (a duplicate within
	// the batch is reported as not added).
	PutCertificates(ctx context.Context, certs []*Certificate) ([]PutResult, error)
	// ImportBatch stores keys (as PutKey), then certs (as
	// PutCertificates), then the audit events that audit makes of their
	// results (in the order given), in one transaction: what an import
	// stores is never left without its audit event. audit runs inside
	// the transaction and must not call the store.
	ImportBatch(ctx context.Context, keys []*Key, certs []*Certificate,
		audit func(keys, certs []PutResult) []AuditEvent) (ImportResults, error)
	GetCertificate(ctx context.Context, id int64) (*Certificate, error)
	CertificateBySHA256(ctx context.Context, sha256 string) (*Certificate, error)
	ListCertificates(ctx context.Context, f CertificateFilter, p Page) (*CertificatePage, error)
	CountCertificates(ctx context.Context, f CertificateFilter) (int, error)
	// CountCertificatesByStatus counts the certificates f selects (f.Status
	// is ignored) by their status at f.At (now when zero), as
	// Certificate.StatusAt decides it: revoked first, then expired, then
	// not yet valid. The map holds all four statuses, zero counts
	// included.
	CountCertificatesByStatus(ctx context.Context, f CertificateFilter) (map[Status]int, error)
	// CountCertificatesByDay counts the certificates f selects by the UTC
	// day of their NotAfter, for days days from the UTC day of from on:
	// element i counts NotAfter in [day0+i*24h, day0+(i+1)*24h), where
	// day0 is from's UTC midnight. Certificates outside those days are
	// not counted. days outside [0, MaxCountDays] gives ErrInvalid.
	CountCertificatesByDay(ctx context.Context, f CertificateFilter, from time.Time, days int) ([]int, error)
	// Chain returns the certificate followed by its known issuers up to a
	// self-signed root, the first unknown issuer, a loop, or ten
	// certificates.
	Chain(ctx context.Context, id int64) ([]Certificate, error)

	PutCSR(ctx context.Context, c *CSR) (int64, error)
	GetCSR(ctx context.Context, id int64) (*CSR, error)

	// AppendAudit stores e and fills in its ID, and its Time when zero.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// InTx runs fn with a Store bound to one transaction, and commits it
	// when fn returns nil; when fn fails (or the commit does) nothing fn
	// wrote is kept. A service writes a change and its audit event
	// through tx so that neither is stored without the other. fn must use
	// tx only, never the outer store (on SQLite the outer store waits for
	// the transaction fn runs in), and tx must not be kept after fn
	// returns. Each method of tx is atomic on its own; a method that
	// fails inside fn should fail fn too (on PostgreSQL a failed statement
	// outside a multi-statement method spoils the transaction). InTx on
	// tx runs fn in the same transaction; tx.Close does nothing.
	InTx(ctx context.Context, fn func(tx Store) error) error
	ListAudit(ctx context.Context, since time.Time, p Page) ([]AuditEvent, string, error)
	// ListAuditNewest is ListAudit newest first.
	ListAuditNewest(ctx context.Context, since time.Time, p Page) ([]AuditEvent, string, error)

	Close() error
}

// MaxCountDays is the most days CountCertificatesByDay counts at once
// (about 100 years).
const MaxCountDays = 36525

// PutResult reports what PutCertificates did with one certificate.
type PutResult struct {
	ID    int64
	Added bool
}

// ImportResults are the results of ImportBatch, in input order.
type ImportResults struct {
	Keys, Certificates []PutResult
}
