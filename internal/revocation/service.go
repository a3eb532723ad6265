package revocation

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// Authority is what revocation needs from the CA: a CA's signing key and
// certificate (for CRLs), and issuance of delegated OCSP responder
// certificates. *ca.Authority implements it.
type Authority interface {
	Signer(ctx context.Context, caID int64) (crypto.Signer, *x509.Certificate, error)
	Issue(ctx context.Context, req ca.Request) (*ca.Issued, error)
}

// Defaults of Config.
const (
	DefaultCRLValidity  = 24 * time.Hour
	DefaultOCSPValidity = time.Hour
)

// Config configures a Service. The zero value works.
type Config struct {
	// CRLValidity is the time from a CRL's thisUpdate to its nextUpdate
	// (RFC 5280, section 5.1.2.5); 0 means 24 h.
	CRLValidity time.Duration
	// CRLRefresh is the age at which a CA's latest CRL is replaced; 0 means
	// half of CRLValidity. It must be shorter than CRLValidity, so that a
	// new CRL is out before the old one's nextUpdate.
	CRLRefresh time.Duration
	// OCSPValidity is the time from an OCSP response's thisUpdate to its
	// nextUpdate, which is also how long HTTP caches may keep it (RFC 5019,
	// section 6.2); 0 means 1 h.
	OCSPValidity time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness for CRL signatures; nil means crypto/rand.
	Rand io.Reader
}

// Store is what revocation needs from the inventory; inventory.Store
// satisfies it.
type Store interface {
	GetCA(ctx context.Context, id int64) (*inventory.CA, error)
	ListCAs(ctx context.Context) ([]inventory.CA, error)
	GetKey(ctx context.Context, id int64) (*inventory.Key, error)
	GetCertificate(ctx context.Context, id int64) (*inventory.Certificate, error)
	CertificateBySHA256(ctx context.Context, sha256 string) (*inventory.Certificate, error)
	ListCertificates(ctx context.Context, f inventory.CertificateFilter, p inventory.Page) (*inventory.CertificatePage, error)
	Revoke(ctx context.Context, r *inventory.Revocation, audit *inventory.AuditEvent) error
	ListRevocations(ctx context.Context, caID int64) ([]inventory.Revocation, error)
	SerialStatus(ctx context.Context, caID int64, serial string) (*inventory.SerialStatus, error)
	NextCRLNumber(ctx context.Context, caID int64) (int64, error)
	PutCRL(ctx context.Context, c *inventory.CRL) error
	LatestCRL(ctx context.Context, caID int64) (*inventory.CRL, error)
}

// Service revokes certificates and publishes CRLs and OCSP responses for
// every CA in the inventory. It is safe for concurrent use.
type Service struct {
	st     Store
	auth   Authority
	sealer *keys.Sealer
	cfg    Config
	log    *slog.Logger

	cas        caCache
	responders responderCache

	// pending holds CAs whose CRL must be refreshed at the next chance
	// (a refresh after a revocation failed); kick wakes the Refresher.
	mu      sync.Mutex
	pending map[int64]bool
	kick    chan struct{}
}

// New returns a Service over the inventory st. sealer opens the stored
// keys of responder certificates; log receives what the HTTP handlers
// cannot report to their clients.
func New(st Store, auth Authority, sealer *keys.Sealer, cfg Config, log *slog.Logger) (*Service, error) {
	if cfg.CRLValidity == 0 {
		cfg.CRLValidity = DefaultCRLValidity
	}
	if cfg.CRLRefresh == 0 {
		cfg.CRLRefresh = cfg.CRLValidity / 2
	}
	if cfg.OCSPValidity == 0 {
		cfg.OCSPValidity = DefaultOCSPValidity
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &Service{
		st: st, auth: auth, sealer: sealer, cfg: cfg, log: log,
		cas:        caCache{byID: map[int64]cachedCA{}},
		responders: responderCache{byCA: map[int64]*responder{}},
		pending:    map[int64]bool{},
		kick:       make(chan struct{}, 1),
	}, nil
}

func (c *Config) check() error {
	switch {
	case c.CRLValidity < time.Minute:
		return fmt.Errorf("revocation: CRL validity %s is shorter than a minute", c.CRLValidity)
	case c.CRLRefresh <= 0 || c.CRLRefresh >= c.CRLValidity:
		return fmt.Errorf("revocation: CRL refresh interval %s must be positive and shorter than the CRL validity %s", c.CRLRefresh, c.CRLValidity)
	case c.OCSPValidity < time.Minute:
		return fmt.Errorf("revocation: OCSP validity %s is shorter than a minute", c.OCSPValidity)
	}
	return nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// markPending asks for the CA's CRL to be refreshed as soon as possible.
func (s *Service) markPending(caID int64) {
	s.mu.Lock()
	s.pending[caID] = true
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Service) isPending(caID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending[caID]
}

func (s *Service) clearPending(caID int64) {
	s.mu.Lock()
	delete(s.pending, caID)
	s.mu.Unlock()
}
