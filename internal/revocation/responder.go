package revocation

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// ResponderLabel is the inventory label of a CA's delegated OCSP responder
// certificates.
func ResponderLabel(caID int64) string { return "ocsp-responder:ca-" + strconv.FormatInt(caID, 10) }

// responderActor names the service in the audit trail when it issues a
// responder certificate.
const responderActor = "certkeeper:ocsp"

// responder is a delegated OCSP responder (RFC 6960, section 4.2.2.2): a
// certificate with id-kp-OCSPSigning issued by the CA, and its key.
type responder struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// fresh reports whether more than a third of the certificate's life
// remains; past that point a new one is issued.
func (r *responder) fresh(now time.Time) bool {
	life := r.cert.NotAfter.Sub(r.cert.NotBefore)
	return now.Before(r.cert.NotAfter.Add(-life / 3))
}

type responderCache struct {
	mu   sync.RWMutex
	byCA map[int64]*responder
}

func (c *responderCache) get(caID int64, now time.Time) *responder {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if r := c.byCA[caID]; r != nil && r.fresh(now) {
		return r
	}
	return nil
}

// responder returns the CA's delegated responder: the one in memory, else
// a fresh one stored in the inventory (another instance may have issued
// it), else a newly issued one.
func (s *Service) responder(ctx context.Context, c *caInfo) (*responder, error) {
	if r := s.responders.get(c.rec.ID, s.now()); r != nil {
		return r, nil
	}
	s.responders.mu.Lock()
	defer s.responders.mu.Unlock()
	now := s.now()
	if r := s.responders.byCA[c.rec.ID]; r != nil && r.fresh(now) {
		return r, nil
	}
	r, ok, err := s.storedResponder(ctx, c, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		if r, err = s.newResponder(ctx, c); err != nil {
			return nil, err
		}
	}
	s.responders.byCA[c.rec.ID] = r
	return r, nil
}

// storedResponder loads the freshest responder certificate of the CA from
// the inventory; ok is false when none is fresh.
func (s *Service) storedResponder(ctx context.Context, c *caInfo, now time.Time) (r *responder, ok bool, err error) {
	page, err := s.st.ListCertificates(ctx, inventory.CertificateFilter{
		Label: ResponderLabel(c.rec.ID), NotExpiredAt: now,
	}, inventory.Page{Limit: inventory.MaxPageSize})
	if err != nil {
		return nil, false, fmt.Errorf("revocation: CA %q responder: %w", c.rec.Name, err)
	}
	var best *inventory.Certificate
	for i := range page.Items {
		rec := &page.Items[i]
		if rec.IssuerID == c.rec.CertificateID && rec.KeyID != 0 && rec.RevokedAt == nil &&
			(best == nil || rec.NotAfter.After(best.NotAfter)) {
			best = rec
		}
	}
	if best == nil {
		return nil, false, nil
	}
	if r, err = s.openResponder(ctx, best); err != nil {
		return nil, false, fmt.Errorf("revocation: CA %q responder: %w", c.rec.Name, err)
	}
	return r, r.fresh(now), nil
}

func (s *Service) openResponder(ctx context.Context, rec *inventory.Certificate) (*responder, error) {
	cert, err := x509.ParseCertificate(rec.DER)
	if err != nil {
		return nil, fmt.Errorf("certificate %d: %w", rec.ID, err)
	}
	k, err := s.st.GetKey(ctx, rec.KeyID)
	if err != nil {
		return nil, fmt.Errorf("certificate %d key: %w", rec.ID, err)
	}
	key, err := keys.OpenPrivateKey(s.sealer, k)
	if err != nil {
		return nil, err
	}
	return &responder{cert: cert, key: key}, nil
}

// newResponder issues a responder certificate for an active CA. A retired
// CA signs nothing new, so it answers with its own key once its last
// responder certificate has aged (RFC 6960 section 4.2.2.2 allows the CA
// itself to sign).
func (s *Service) newResponder(ctx context.Context, c *caInfo) (*responder, error) {
	if c.rec.Status == inventory.CAActive {
		return s.issueResponder(ctx, c)
	}
	key, cert, err := s.auth.Signer(ctx, c.rec.ID)
	if err != nil {
		return nil, fmt.Errorf("revocation: CA %q: %w", c.rec.Name, err)
	}
	return &responder{cert: cert, key: key}, nil
}

// issueResponder has the CA issue a new responder certificate (profile
// ca.OCSPResponder: id-kp-OCSPSigning and id-pkix-ocsp-nocheck); the
// Authority stores it and its key in the inventory.
func (s *Service) issueResponder(ctx context.Context, c *caInfo) (*responder, error) {
	iss, err := s.auth.Issue(ctx, ca.Request{
		CA:         c.rec.Name,
		Profile:    ca.OCSPResponder,
		CommonName: c.rec.Name + " OCSP Responder",
		Labels:     []string{ResponderLabel(c.rec.ID)},
		Requester:  ca.Requester{Name: responderActor, Role: ca.RoleSystem},
	})
	if err != nil {
		return nil, fmt.Errorf("revocation: CA %q: issue OCSP responder certificate: %w", c.rec.Name, err)
	}
	if iss.Key == nil {
		return nil, fmt.Errorf("revocation: CA %q: the responder certificate came without a key", c.rec.Name)
	}
	return &responder{cert: iss.Certificate, key: iss.Key}, nil
}
