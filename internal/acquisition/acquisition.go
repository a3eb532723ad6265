// Package acquisition runs acquisition processes: the steps that get a
// certificate for a definition, new or renewal, from a built-in CA
// (issued at once) or from a vendor ordered from by hand (request
// downloaded, order recorded, certificate uploaded, validated and
// registered), up to switching the definition's current certificate.
// Every step is recorded with its actor and time, and audited.
package acquisition

import (
	"context"
	"crypto/x509"
	"errors"
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
	inventory.AcquisitionStore
	GetDefinition(ctx context.Context, id int64) (*inventory.Definition, error)
	DefinitionByName(ctx context.Context, name string) (*inventory.Definition, error)
	GetIssuer(ctx context.Context, id int64) (*inventory.Issuer, error)
	IssuerByName(ctx context.Context, name string) (*inventory.Issuer, error)
	ListProducts(ctx context.Context, issuerID int64) ([]inventory.Product, error)
	GetProduct(ctx context.Context, id int64) (*inventory.Product, error)
	GetVendorAccount(ctx context.Context, id int64) (*inventory.VendorAccount, error)
	ListVendorAccounts(ctx context.Context) ([]inventory.VendorAccount, error)
	GetCA(ctx context.Context, id int64) (*inventory.CA, error)
	PutKey(ctx context.Context, k *inventory.Key) (int64, bool, error)
	GetKey(ctx context.Context, id int64) (*inventory.Key, error)
	PutCSR(ctx context.Context, c *inventory.CSR) (int64, error)
	GetCSR(ctx context.Context, id int64) (*inventory.CSR, error)
	PutCertificates(ctx context.Context, certs []*inventory.Certificate) ([]inventory.PutResult, error)
	GetCertificate(ctx context.Context, id int64) (*inventory.Certificate, error)
	ListCertificates(ctx context.Context, f inventory.CertificateFilter, p inventory.Page) (*inventory.CertificatePage, error)
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
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
	// Roots are the trusted roots an uploaded certificate's chain must
	// reach (besides the intermediates uploaded with it and the CA
	// certificates in the inventory); nil means the system roots.
	Roots *x509.CertPool
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
	// product, or the first the product selector offers for the
	// definition.
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

var errTODO = errors.New("acquisition: not yet implemented")

// Start begins a process for a definition: it chooses the issuer and
// product, makes (or reuses) the key and makes the request.
func (s *Service) Start(ctx context.Context, actor string, o StartOptions) (*Process, error) {
	return nil, errTODO
}

// Get returns process id with its history.
func (s *Service) Get(ctx context.Context, id int64) (*Process, error) { return nil, errTODO }

// List returns one page of the processes f selects.
func (s *Service) List(ctx context.Context, f inventory.AcquisitionFilter, p inventory.Page) (*inventory.AcquisitionPage, error) {
	return nil, errTODO
}

// Attention returns the definitions whose current certificate expires
// within days (DefaultAttentionDays when 0) and that have no open process.
func (s *Service) Attention(ctx context.Context, days int, p inventory.Page) (*inventory.DefinitionPage, error) {
	return nil, errTODO
}

// ChooseIssuer changes the issuer and product of a process still in
// csr_ready.
func (s *Service) ChooseIssuer(ctx context.Context, actor string, id int64, issuer, product string) (*Process, error) {
	return nil, errTODO
}

// CSR returns the process's request in PEM and records that it was
// downloaded.
func (s *Service) CSR(ctx context.Context, actor string, id int64) ([]byte, error) {
	return nil, errTODO
}

// Issue has the built-in CA of the process's issuer sign its request,
// registers the certificate and, with AutoSwitch, makes it current.
func (s *Service) Issue(ctx context.Context, actor string, id int64) (*Validation, error) {
	return nil, errTODO
}

// RecordOrder records the vendor order of a process in csr_ready (or
// corrects the order of one in ordered).
func (s *Service) RecordOrder(ctx context.Context, actor string, id int64, o OrderInput) (*Process, error) {
	return nil, errTODO
}

// Upload validates a certificate received for a vendor process and
// registers it: it must certify the process's key, its chain must reach a
// trusted root (through the uploaded intermediates, the inventory's CA
// certificates or Config.Roots); name differences are reported, not
// refused. A refused upload changes nothing.
func (s *Service) Upload(ctx context.Context, actor string, id int64, u Upload) (*Validation, error) {
	return nil, errTODO
}

// Switch makes the process's certificate the definition's current one.
func (s *Service) Switch(ctx context.Context, actor string, id int64) (*Process, error) {
	return nil, errTODO
}

// Cancel abandons an open process.
func (s *Service) Cancel(ctx context.Context, actor string, id int64, reason string) (*Process, error) {
	return nil, errTODO
}
