package inventory

import (
	"context"
	"time"
)

// Revocation records that a CA revoked one of its certificates.
type Revocation struct {
	CAID          int64
	CertificateID int64
	// Serial is the lowercase hex serial number.
	Serial    string
	RevokedAt time.Time
	// Reason is the CRLReason code of RFC 5280, section 5.3.1.
	Reason int
	// NotAfter is the revoked certificate's expiry, filled in by
	// ListRevocations (zero elsewhere).
	NotAfter time.Time
}

// CRL is a certificate revocation list a CA published.
type CRL struct {
	CAID       int64
	Number     int64
	ThisUpdate time.Time
	NextUpdate time.Time
	DER        []byte
}

// SerialStatus says what a CA knows of a serial number (for OCSP).
type SerialStatus struct {
	// Issued is false when the CA never recorded a certificate with this
	// serial.
	Issued bool
	// Revocation is set when the certificate was revoked.
	Revocation *Revocation
}

// RevocationStore is the part of the Store contract that serves
// revocation, CRLs and OCSP.
type RevocationStore interface {
	// Revoke records a revocation, sets the certificate's RevokedAt and
	// stores the audit event, in one transaction. A certificate already
	// revoked gives ErrConflict.
	Revoke(ctx context.Context, r *Revocation, audit *AuditEvent) error
	// ListRevocations returns every revocation of a CA, oldest first,
	// with each certificate's NotAfter.
	ListRevocations(ctx context.Context, caID int64) ([]Revocation, error)
	SerialStatus(ctx context.Context, caID int64, serial string) (*SerialStatus, error)
	// NextCRLNumber atomically increments and returns the CA's CRL number
	// (1 for the first CRL).
	NextCRLNumber(ctx context.Context, caID int64) (int64, error)
	// PutCRL stores a CRL as the CA's latest unless a higher number is
	// stored already.
	PutCRL(ctx context.Context, c *CRL) error
	// LatestCRL returns the CA's newest CRL, or ErrNotFound.
	LatestCRL(ctx context.Context, caID int64) (*CRL, error)
}
