// Package ca is certkeeper's private certificate authority: it creates and
// imports CAs (roots, issuing intermediates, subordinates of an outside
// PKI) and issues certificates from profiles.
//
// Every certificate is issued in two steps joined by an unexported token,
// as Boulder does: prepare builds the template and signs a throwaway copy
// with a throwaway key of the CA key's type, zlint checks that copy, and
// only a linted token can be signed with the real key. Serial numbers are
// random (127 bits) and reserved durably before anything is signed; the
// certificate and its audit event are stored before Issue returns.
// Reservations and records of concurrent requests are group-committed.
// See docs/ca.md.
package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// Config configures an Authority. The zero value works.
type Config struct {
	// BaseURL is the external URL where "certkeeper serve" publishes CA
	// certificates, CRLs and OCSP. When set, issued certificates carry the
	// issuing CA's CRL distribution point, caIssuers and OCSP URLs (RFC
	// 5280 sections 4.2.1.13 and 4.2.2.1); when empty they carry none.
	BaseURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness for keys, serials and signatures; nil means
	// crypto/rand.Reader.
	Rand io.Reader
	// Organization is the subject O of the CAs Init creates; "" means
	// "certkeeper".
	Organization string
	// BatchWindow is how long the first of several concurrent requests
	// waits for others before their serial reservations or records are
	// committed in one transaction. Zero commits as soon as the previous
	// batch is done (requests arriving meanwhile still share the next
	// transaction); a negative value disables batching.
	BatchWindow time.Duration
	// MaxBatch caps a batch; 0 means 128.
	MaxBatch int
}

// Store is what the CA service needs from the inventory; inventory.Store
// satisfies it.
type Store interface {
	GetCA(ctx context.Context, id int64) (*inventory.CA, error)
	CAByName(ctx context.Context, name string) (*inventory.CA, error)
	DefaultCA(ctx context.Context) (*inventory.CA, error)
	ListCAs(ctx context.Context) ([]inventory.CA, error)
	ReserveSerials(ctx context.Context, caID int64, serials []string) error
	RecordIssuances(ctx context.Context, iss []inventory.Issuance) ([]int64, error)
	GetKey(ctx context.Context, id int64) (*inventory.Key, error)
	GetCertificate(ctx context.Context, id int64) (*inventory.Certificate, error)
	CertificateBySHA256(ctx context.Context, sha256 string) (*inventory.Certificate, error)
	GetCSR(ctx context.Context, id int64) (*inventory.CSR, error)
	Chain(ctx context.Context, id int64) ([]inventory.Certificate, error)
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
	// InTx writes a change and its audit event in one transaction.
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// Authority runs the CAs of one inventory. It is safe for concurrent use.
// It caches the CA keys it unsealed for the life of the value.
type Authority struct {
	st     Store
	sealer *keys.Sealer
	cfg    Config
	lints  *linter

	record *group[inventory.Issuance, int64]

	mu      sync.Mutex
	loaded  map[int64]*issuer
	byName  map[string]lookup                  // "" is the default CA
	reserve map[int64]*group[string, struct{}] // by CA ID
}

// New returns an Authority over st whose keys are sealed by s.
func New(st Store, s *keys.Sealer, cfg Config) *Authority {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Organization == "" {
		cfg.Organization = "certkeeper"
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 128
	}
	a := &Authority{st: st, sealer: s, cfg: cfg, lints: newLinter(),
		loaded: make(map[int64]*issuer), byName: make(map[string]lookup), reserve: make(map[int64]*group[string, struct{}])}
	a.record = newGroup(cfg.BatchWindow, cfg.MaxBatch, st.RecordIssuances)
	return a
}

// Signer returns CA caID's private key, unsealed, and its certificate,
// for signing CRLs and OCSP responses. A pending CA gives an error.
func (a *Authority) Signer(ctx context.Context, caID int64) (crypto.Signer, *x509.Certificate, error) {
	iss, err := a.issuer(ctx, caID)
	if err != nil {
		return nil, nil, err
	}
	return iss.key, iss.cert, nil
}

// Chain returns CA caID's certificate followed by its issuers as far as
// they are known, up to the root.
func (a *Authority) Chain(ctx context.Context, caID int64) ([]*x509.Certificate, error) {
	iss, err := a.issuer(ctx, caID)
	if err != nil {
		return nil, err
	}
	return append([]*x509.Certificate(nil), iss.chain...), nil
}

// issuer returns the loaded signing state of CA caID, loading it on first
// use.
func (a *Authority) issuer(ctx context.Context, caID int64) (*issuer, error) {
	a.mu.Lock()
	iss := a.loaded[caID]
	a.mu.Unlock()
	if iss != nil {
		return iss, nil
	}
	c, err := a.st.GetCA(ctx, caID)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	if iss, err = a.load(ctx, c); err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if prev := a.loaded[caID]; prev != nil {
		return prev, nil
	}
	a.loaded[caID] = iss
	return iss, nil
}

// forget drops a CA from the caches after it changed.
func (a *Authority) forget(caID int64) {
	a.mu.Lock()
	delete(a.loaded, caID)
	clear(a.byName)
	a.mu.Unlock()
}

// load unseals a CA's key and reads its chain.
func (a *Authority) load(ctx context.Context, c *inventory.CA) (*issuer, error) {
	if c.Status == inventory.CAPending || c.CertificateID == 0 {
		return nil, fmt.Errorf("ca: %s is pending: activate it with its signed certificate first", c.Name)
	}
	k, err := a.st.GetKey(ctx, c.KeyID)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: key: %w", c.Name, err)
	}
	key, err := keys.OpenPrivateKey(a.sealer, k)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: %w", c.Name, err)
	}
	recs, err := a.st.Chain(ctx, c.CertificateID)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: chain: %w", c.Name, err)
	}
	chain := make([]*x509.Certificate, len(recs))
	for i := range recs {
		if chain[i], err = x509.ParseCertificate(recs[i].DER); err != nil {
			return nil, fmt.Errorf("ca: %s: chain: %w", c.Name, err)
		}
	}
	return newIssuer(a.cfg.Rand, *c, chain, key)
}

// reserveGroup returns the group committing serial reservations of CA
// caID (ReserveSerials takes one CA per transaction).
func (a *Authority) reserveGroup(caID int64) *group[string, struct{}] {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.reserve[caID]
	if g == nil {
		g = newGroup(a.cfg.BatchWindow, a.cfg.MaxBatch, func(ctx context.Context, serials []string) ([]struct{}, error) {
			return make([]struct{}, len(serials)), a.st.ReserveSerials(ctx, caID, serials)
		})
		a.reserve[caID] = g
	}
	return g
}
