// Package truststore keeps the trust anchors an Admin decided on: whether
// the operating system's roots are trusted, and which self-signed CA
// certificates of the inventory are trusted roots. The roots of
// certkeeper's own CAs are trusted while the CA exists, without a mark.
// Vendor uploads (package acquisition) and deploy checks (package deploy)
// judge chains against these roots alone: importing a self-signed
// certificate does not make it trusted.
package truststore

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Store is what the service needs from the inventory.
type Store interface {
	AddTrustRoot(ctx context.Context, certificateID int64, actor string, at time.Time, audit *inventory.AuditEvent) error
	ListTrustRoots(ctx context.Context) ([]inventory.TrustRoot, error)
	RemoveTrustRoot(ctx context.Context, certificateID int64, audit *inventory.AuditEvent) error
	SetTrustSystemRoots(ctx context.Context, on bool, audit *inventory.AuditEvent) error
	TrustSystemRoots(ctx context.Context) (bool, error)
	ListCAs(ctx context.Context) ([]inventory.CA, error)
	GetCertificate(ctx context.Context, id int64) (*inventory.Certificate, error)
}

// Where a trusted root comes from.
const (
	// SourceMarked is a root an Admin marked as trusted.
	SourceMarked = "marked"
	// SourceCA is the root certificate of one of certkeeper's own CAs.
	SourceCA = "ca"
)

// Root is one trusted root.
type Root struct {
	Certificate inventory.Certificate
	// Source is SourceMarked or SourceCA.
	Source string
	// CA names the CA whose certificate this is, for SourceCA.
	CA string
	// AddedBy and AddedAt say who marked the root and when (the CA's
	// creation for SourceCA, with AddedBy "").
	AddedBy string
	AddedAt time.Time
}

// Anchors are the trust anchors at one moment.
type Anchors struct {
	// SystemRoots reports whether the operating system's roots are
	// trusted.
	SystemRoots bool
	// Roots are the trusted roots of the inventory, certkeeper's CA roots
	// first.
	Roots []Root

	system func() (*x509.CertPool, error)
}

// Certificates returns the parsed Roots (a root whose DER does not parse
// is left out).
func (a *Anchors) Certificates() []*x509.Certificate {
	out := make([]*x509.Certificate, 0, len(a.Roots))
	for _, r := range a.Roots {
		if c, err := x509.ParseCertificate(r.Certificate.DER); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// Pool returns a new pool of the trusted roots: the system roots when
// they are trusted (none when they cannot be loaded) and Roots.
func (a *Anchors) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	if a.SystemRoots && a.system != nil {
		if sys, err := a.system(); err == nil && sys != nil {
			pool = sys
		}
	}
	for _, c := range a.Certificates() {
		pool.AddCert(c)
	}
	return pool
}

// Options tune a Service. The zero value works.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// SystemRoots returns what "the system roots" are; nil means
	// x509.SystemCertPool. The pool returned is modified by callers, so
	// it must be a new one per call.
	SystemRoots func() (*x509.CertPool, error)
}

// Service reads and changes the trust store. It keeps no cache: the
// anchors are read from the inventory per call (three small queries and
// one per CA), so a change made by another instance sharing the database
// applies at once. It is safe for concurrent use.
type Service struct {
	store  Store
	now    func() time.Time
	system func() (*x509.CertPool, error)
}

// New returns the service over st.
func New(st Store, o Options) *Service {
	s := &Service{store: st, now: o.Now, system: o.SystemRoots}
	if s.now == nil {
		s.now = time.Now
	}
	if s.system == nil {
		s.system = x509.SystemCertPool
	}
	return s
}

// Anchors returns the current trust anchors.
func (s *Service) Anchors(ctx context.Context) (*Anchors, error) {
	on, err := s.store.TrustSystemRoots(ctx)
	if err != nil {
		return nil, fmt.Errorf("truststore: %w", err)
	}
	a := &Anchors{SystemRoots: on, system: s.system}
	if a.Roots, err = s.caRoots(ctx); err != nil {
		return nil, err
	}
	marked, err := s.store.ListTrustRoots(ctx)
	if err != nil {
		return nil, fmt.Errorf("truststore: %w", err)
	}
	for _, m := range marked {
		a.Roots = append(a.Roots, Root{Certificate: m.Certificate, Source: SourceMarked, AddedBy: m.AddedBy, AddedAt: m.AddedAt})
	}
	return a, nil
}

// Pool returns a new pool of the currently trusted roots.
func (s *Service) Pool(ctx context.Context) (*x509.CertPool, error) {
	a, err := s.Anchors(ctx)
	if err != nil {
		return nil, err
	}
	return a.Pool(), nil
}

// caRoots returns the self-signed certificates of certkeeper's CAs. A
// subordinate CA's certificate is not self-signed: the root above it is
// trusted only when an Admin marks it.
func (s *Service) caRoots(ctx context.Context) ([]Root, error) {
	cas, err := s.store.ListCAs(ctx)
	if err != nil {
		return nil, fmt.Errorf("truststore: %w", err)
	}
	var out []Root
	for _, ca := range cas {
		if ca.CertificateID == 0 {
			continue
		}
		c, err := s.store.GetCertificate(ctx, ca.CertificateID)
		if err != nil {
			return nil, fmt.Errorf("truststore: CA %s: %w", ca.Name, err)
		}
		if c.SelfSigned && c.IsCA {
			out = append(out, Root{Certificate: *c, Source: SourceCA, CA: ca.Name, AddedAt: ca.CreatedAt})
		}
	}
	return out, nil
}

// caRootOf returns the CA whose root certificate id is, or nil.
func (s *Service) caRootOf(ctx context.Context, id int64) (*Root, error) {
	roots, err := s.caRoots(ctx)
	if err != nil {
		return nil, err
	}
	for i := range roots {
		if roots[i].Certificate.ID == id {
			return &roots[i], nil
		}
	}
	return nil, nil
}

// Add marks certificate id as a trusted root, audited as actor. Only a
// self-signed CA certificate of the inventory may be marked; anything
// else is a field error on certificate_id, an unknown certificate
// inventory.ErrNotFound, one trusted already inventory.ErrConflict.
func (s *Service) Add(ctx context.Context, actor string, id int64) (*Root, error) {
	cert, err := s.markable(ctx, id)
	if err != nil {
		return nil, err
	}
	at := s.now().UTC()
	audit := &inventory.AuditEvent{Time: at, Actor: actor, Action: "trust.root_add", Object: certObject(id),
		Summary: fmt.Sprintf("marked %s (SHA-256 %s) as a trusted root", cert.Subject, cert.SHA256)}
	if err := s.store.AddTrustRoot(ctx, id, actor, at, audit); err != nil {
		return nil, fmt.Errorf("truststore: %w", err)
	}
	return &Root{Certificate: *cert, Source: SourceMarked, AddedBy: actor, AddedAt: audit.Time}, nil
}

// markable loads certificate id and says why it may not be marked.
func (s *Service) markable(ctx context.Context, id int64) (*inventory.Certificate, error) {
	if id <= 0 {
		return nil, inventory.Invalid("certificate_id", "is required")
	}
	cert, err := s.store.GetCertificate(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("truststore: certificate %d: %w", id, err)
	}
	c, err := x509.ParseCertificate(cert.DER)
	switch {
	case err != nil:
		return nil, inventory.Invalid("certificate_id", "certificate %d does not parse: %v", id, err)
	case !c.IsCA || !c.BasicConstraintsValid:
		return nil, inventory.Invalid("certificate_id", "certificate %d (%s) is not a CA certificate: only a self-signed CA certificate can be a trusted root", id, cert.Subject)
	case !inventory.IsSelfSigned(c):
		return nil, inventory.Invalid("certificate_id", "certificate %d (%s) is not self-signed: mark the root it chains to instead", id, cert.Subject)
	}
	ca, err := s.caRootOf(ctx, id)
	switch {
	case err != nil:
		return nil, err
	case ca != nil:
		return nil, fmt.Errorf("truststore: certificate %d is the root of certkeeper's CA %s, trusted already: %w", id, ca.CA, inventory.ErrConflict)
	}
	return cert, nil
}

// Remove unmarks certificate id, audited as actor. A certificate not
// marked is inventory.ErrNotFound; the root of one of certkeeper's CAs
// cannot be removed (inventory.ErrState).
func (s *Service) Remove(ctx context.Context, actor string, id int64) error {
	ca, err := s.caRootOf(ctx, id)
	switch {
	case err != nil:
		return err
	case ca != nil:
		return fmt.Errorf("truststore: certificate %d is the root of certkeeper's CA %s, trusted while the CA exists: %w",
			id, ca.CA, inventory.ErrState)
	}
	audit := &inventory.AuditEvent{Time: s.now().UTC(), Actor: actor, Action: "trust.root_remove", Object: certObject(id),
		Summary: "no longer a trusted root"}
	if err := s.store.RemoveTrustRoot(ctx, id, audit); err != nil {
		if errors.Is(err, inventory.ErrNotFound) {
			return fmt.Errorf("truststore: certificate %d is not a marked root: %w", id, inventory.ErrNotFound)
		}
		return fmt.Errorf("truststore: %w", err)
	}
	return nil
}

// SetSystemRoots switches whether the operating system's roots are
// trusted, audited as actor.
func (s *Service) SetSystemRoots(ctx context.Context, actor string, on bool) error {
	summary := "system roots trusted"
	if !on {
		summary = "system roots not trusted"
	}
	audit := &inventory.AuditEvent{Time: s.now().UTC(), Actor: actor, Action: "trust.system_roots", Object: inventory.ObjectTrustStore,
		Summary: summary}
	if err := s.store.SetTrustSystemRoots(ctx, on, audit); err != nil {
		return fmt.Errorf("truststore: %w", err)
	}
	return nil
}

func certObject(id int64) string { return inventory.ObjectRef(inventory.KindCertificate, id) }
