package revocation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"golang.org/x/crypto/ocsp"
)

// caCacheTTL bounds how long a CA's record (status, certificate) is
// reused before it is read from the inventory again.
const caCacheTTL = time.Minute

// caInfo is a CA with its parsed certificate.
type caInfo struct {
	rec  *inventory.CA
	cert *x509.Certificate
}

type cachedCA struct {
	info  *caInfo
	until time.Time
}

type caCache struct {
	mu   sync.RWMutex
	byID map[int64]cachedCA
}

func (c *caCache) get(id int64, now time.Time) (*caInfo, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.byID[id]
	if !ok || !now.Before(e.until) {
		return nil, false
	}
	return e.info, true
}

func (c *caCache) put(info *caInfo, until time.Time) {
	c.mu.Lock()
	c.byID[info.rec.ID] = cachedCA{info: info, until: until}
	c.mu.Unlock()
}

// caInfo returns the CA with its certificate. A CA without a certificate
// (a pending subordinate) is ErrNotFound: it publishes nothing yet.
func (s *Service) caInfo(ctx context.Context, id int64) (*caInfo, error) {
	now := s.now()
	if info, ok := s.cas.get(id, now); ok {
		return info, nil
	}
	rec, err := s.st.GetCA(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("revocation: CA %d: %w", id, err)
	}
	if rec.CertificateID == 0 {
		return nil, fmt.Errorf("revocation: CA %q has no certificate yet: %w", rec.Name, inventory.ErrNotFound)
	}
	cr, err := s.st.GetCertificate(ctx, rec.CertificateID)
	if err != nil {
		return nil, fmt.Errorf("revocation: CA %q certificate: %w", rec.Name, err)
	}
	cert, err := x509.ParseCertificate(cr.DER)
	if err != nil {
		return nil, fmt.Errorf("revocation: CA %q certificate: %w", rec.Name, err)
	}
	info := &caInfo{rec: rec, cert: cert}
	s.cas.put(info, now.Add(caCacheTTL))
	return info, nil
}

// issued reports whether an OCSP request's CertID names this CA as the
// issuer: the hashes of its subject name and of its public key (RFC 6960,
// section 4.1.1) computed with the request's hash algorithm.
func (c *caInfo) issued(req *ocsp.Request) bool {
	h := req.HashAlgorithm
	if !h.Available() {
		return false
	}
	return bytes.Equal(digest(h, c.cert.RawSubject), req.IssuerNameHash) &&
		bytes.Equal(digest(h, publicKeyBits(c.cert)), req.IssuerKeyHash)
}

func digest(h crypto.Hash, data []byte) []byte {
	w := h.New()
	w.Write(data)
	return w.Sum(nil)
}

// publicKeyBits is the subjectPublicKey BIT STRING of a certificate's
// SubjectPublicKeyInfo, without tag and length: what issuerKeyHash covers.
func publicKeyBits(c *x509.Certificate) []byte {
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil
	}
	return spki.PublicKey.RightAlign()
}
