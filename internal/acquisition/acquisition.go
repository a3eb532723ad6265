// Package acquisition runs acquisition processes: the steps that get a
// certificate for a definition, new or renewal, from a built-in CA
// (issued at once) or from a vendor ordered from by hand (request
// downloaded, order recorded, certificate uploaded, validated and
// registered), up to switching the definition's current certificate.
// Every step is recorded with its actor and time, in the same store
// transaction as the state change it belongs to, and audited (never with
// key material or a password).
//
// Decisions:
//
//   - Start picks the issuer named, else the definition's required issuer,
//     else the issuer of the default built-in CA. A named issuer other than
//     the one the definition requires is refused. ACME issuers are refused
//     until the ACME client runs processes itself.
//   - Start picks the product named, else the issuer's only product; an
//     issuer with several products makes the caller choose (the error lists
//     them): choosing between a DV and an EV order is a decision that costs
//     money, not a default. The product must fit the definition (level,
//     wildcard, number of names, validity).
//   - A process wants the definition's common name (when it is a host name
//     or IP address) and SANs, in that order; the request carries them all
//     as SANs. A received certificate whose names differ is reported
//     ("missing: b.example.com", "extra: www.example.com"), not refused.
//   - Key material for a new key is generated here, sealed, and stored
//     before the process; a start refused after that (a race with another
//     start for the same definition) leaves an unused key, nothing else.
//     Every other refused operation changes nothing.
//   - A vendor certificate may be uploaded in csr_ready as well as in
//     ordered: recording the order is bookkeeping, and skipping it must not
//     block the certificate. A built-in CA process is never uploaded to; it
//     issues. Recording an order again in ordered corrects it.
//   - An upload may hold a private key (a PFX always does); it is ignored,
//     never stored: the process already holds its key, and the certificate
//     must certify that one. Every certificate of the upload and of the
//     intermediate files is searched for the one with the process's public
//     key, so the files may come in any order.
//   - An upload's chain is verified with crypto/x509 at the service's
//     clock, for serverAuth, through the uploaded certificates and every CA
//     certificate of the inventory, up to a root of the trust store
//     (Config.Trust: the system roots when switched on, certkeeper's CA
//     roots and the roots an Admin marked). Importing a self-signed
//     certificate does not make it trusted, nor does uploading it.
//     The leaf and the verified chain are registered with the source
//     "acquisition:ID".
//   - The certificate is stored before the process records it (the CA
//     stores what it signs; an upload registers its chain); a process
//     changed meanwhile by someone else then refuses the update with
//     inventory.ErrConflict, and the certificate stays in the inventory,
//     which is harmless: it is found again by fingerprint.
//   - format.Decode reads a PFX holding a key, or a Java trust store; a
//     certificate-only PFX (openssl pkcs12 -export -nokeys) is refused with
//     its message as a "data" field error. Vendors' PFX files carry the key.
//   - A built-in CA's refusal (name policy, issuance policy, validity
//     beyond its profile) is passed on as the CA's typed error
//     (*ca.PolicyError, *ca.RequestError), which reads as a field error.
//   - Issue asks the CA on behalf of the acting user (name and role).
//     When the CA holds requests outside the role's issuance policy for
//     approval, the process moves to pending_approval instead of being
//     refused; an admin other than the requester (compared by audit
//     name) approves it, and the CA issues under the admin's authority
//     with both names recorded, or rejects it with a reason, which
//     cancels the process. The requester may still cancel it.
//   - The request can be downloaded in any state; each download is a step.
//   - Names given in input (definition, issuer, product, vendor account)
//     that do not exist are field errors (inventory.ErrInvalid); an unknown
//     process ID is inventory.ErrNotFound; an operation the state does not
//     allow is inventory.ErrState.
package acquisition

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"io"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// DefaultAttentionDays is how far ahead Attention looks by default.
const DefaultAttentionDays = 60

// MaxUploadSize caps an uploaded certificate file (and each intermediate).
const MaxUploadSize = 1 << 20

// Store is what the service needs from the inventory.
type Store interface {
	AcquisitionSteps(ctx context.Context, id int64) ([]inventory.AcquisitionStep, error)
	ExpiringWithoutAcquisition(ctx context.Context, before time.Time, p inventory.Page) (*inventory.DefinitionPage, error)
	GetAcquisition(ctx context.Context, id int64) (*inventory.Acquisition, error)
	ListAcquisitions(ctx context.Context, f inventory.AcquisitionFilter, p inventory.Page) (*inventory.AcquisitionPage, error)
	CountAcquisitionsByState(ctx context.Context, f inventory.AcquisitionFilter) (map[inventory.AcquisitionState]int, error)
	CountExpiringWithoutAcquisition(ctx context.Context, before time.Time) (int, error)
	GetDefinition(ctx context.Context, id int64) (*inventory.Definition, error)
	DefinitionByName(ctx context.Context, name string) (*inventory.Definition, error)
	GetIssuer(ctx context.Context, id int64) (*inventory.Issuer, error)
	IssuerByName(ctx context.Context, name string) (*inventory.Issuer, error)
	ListProducts(ctx context.Context, issuerID int64) ([]inventory.Product, error)
	GetProduct(ctx context.Context, id int64) (*inventory.Product, error)
	GetVendorAccount(ctx context.Context, id int64) (*inventory.VendorAccount, error)
	ListVendorAccounts(ctx context.Context) ([]inventory.VendorAccount, error)
	ListIssuers(ctx context.Context) ([]inventory.Issuer, error)
	GetCA(ctx context.Context, id int64) (*inventory.CA, error)
	DefaultCA(ctx context.Context) (*inventory.CA, error)
	PutKey(ctx context.Context, k *inventory.Key) (int64, bool, error)
	GetKey(ctx context.Context, id int64) (*inventory.Key, error)
	PutCSR(ctx context.Context, c *inventory.CSR) (int64, error)
	GetCSR(ctx context.Context, id int64) (*inventory.CSR, error)
	PutCertificates(ctx context.Context, certs []*inventory.Certificate) ([]inventory.PutResult, error)
	GetCertificate(ctx context.Context, id int64) (*inventory.Certificate, error)
	ListCertificates(ctx context.Context, f inventory.CertificateFilter, p inventory.Page) (*inventory.CertificatePage, error)
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
	// InTx writes a change and its audit event in one transaction.
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// Issuer signs requests with a built-in CA; *ca.Authority is one.
type Issuer interface {
	Issue(ctx context.Context, r ca.Request) (*ca.Issued, error)
}

// Config configures a Service. The zero value works.
type Config struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness for keys; nil means crypto/rand.Reader.
	Rand io.Reader
	// Catalogue, when set, adds the issuers of the built-in CAs
	// (catalogue.Service.SyncBuiltin) when the default CA has none yet;
	// nil means they are only looked up.
	Catalogue BuiltinSyncer
	// Trust gives the roots an uploaded certificate's chain must reach
	// (the intermediates uploaded with it and the inventory's CA
	// certificates only help build the chain); *truststore.Service is
	// one. nil means the system roots alone.
	Trust Anchors
}

// Anchors gives the trusted roots, read per call so that a change to the
// trust store applies to the next upload.
type Anchors interface {
	Pool(ctx context.Context) (*x509.CertPool, error)
}

// BuiltinSyncer adds the issuers of built-in CAs to the catalogue;
// *catalogue.Service is one.
type BuiltinSyncer interface {
	SyncBuiltin(ctx context.Context) error
}

// Service runs acquisition processes. It is safe for concurrent use.
type Service struct {
	st     Store
	issuer Issuer
	sealer *keys.Sealer
	cfg    Config
}

// New returns a service over st that issues from built-in CAs through
// issuer and seals new keys with sealer.
func New(st Store, issuer Issuer, sealer *keys.Sealer, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Service{st: st, issuer: issuer, sealer: sealer, cfg: cfg}
}

// StartOptions says how to start a process.
type StartOptions struct {
	// Definition names the definition.
	Definition string
	// Kind is new or renewal; "" means renewal when the definition has a
	// current certificate, else new.
	Kind inventory.AcquisitionKind
	// Issuer names the issuer; "" means the definition's required issuer,
	// else the default built-in CA's issuer.
	Issuer string
	// Product names a product of the issuer; "" means the issuer's only
	// product (an issuer with several needs one named).
	Product string
	// ReuseKey keeps the current certificate's key instead of making a
	// new one; the key must be held.
	ReuseKey bool
	// AutoSwitch makes the certificate current as soon as it is
	// registered.
	AutoSwitch bool
}

// Process is an acquisition with its history and the objects it refers
// to, for display.
type Process struct {
	inventory.Acquisition
	Definition  *inventory.Definition
	Issuer      *inventory.Issuer
	Product     *inventory.Product
	Certificate *inventory.Certificate
	Steps       []inventory.AcquisitionStep
}

// OrderInput records a vendor order.
type OrderInput struct {
	// VendorAccount names the account ordered with; "" is allowed when
	// the issuer has none.
	VendorAccount string
	Number        string
	// Date is the order date; zero means today.
	Date time.Time
	// Product names the product ordered; "" keeps the chosen one.
	Product string
	Notes   string
}

// Upload is a certificate received from a vendor.
type Upload struct {
	// Data is the file as received: PEM, DER, PKCS#7 or PKCS#12, holding
	// the certificate and possibly its chain.
	Data []byte
	// Password opens a PKCS#12 file.
	Password string
	// Intermediates are further files holding intermediate certificates.
	Intermediates [][]byte
}

// Validation reports what checking an uploaded certificate found.
type Validation struct {
	Acquisition *inventory.Acquisition
	Certificate *inventory.Certificate
	// Chain is the verified chain, leaf first, up to a trusted root.
	Chain []*x509.Certificate
	// Differences lists how the certificate's names differ from the
	// definition's; empty when they match.
	Differences []string
	// Switched says the certificate became current (AutoSwitch).
	Switched bool
}
