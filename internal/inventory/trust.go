package inventory

import (
	"context"
	"time"
)

// TrustRoot is a certificate of the inventory an Admin marked as a
// trusted root: vendor uploads and deploy checks may chain to it.
type TrustRoot struct {
	// Certificate is the marked self-signed CA certificate.
	Certificate Certificate
	// AddedBy is the audit actor who marked it ("user:NAME").
	AddedBy string
	AddedAt time.Time
}

// TrustStore keeps the roots an Admin marked as trusted and whether the
// operating system's roots are trusted too (package truststore decides
// what may be marked).
type TrustStore interface {
	// ListTrustRoots returns the marked roots with their certificates,
	// by certificate ID.
	ListTrustRoots(ctx context.Context) ([]TrustRoot, error)
	// AddTrustRoot marks certificate certificateID as trusted by actor at
	// at (now when zero) and appends audit, in one transaction. An
	// unknown certificate gives ErrNotFound, one already marked
	// ErrConflict.
	AddTrustRoot(ctx context.Context, certificateID int64, actor string, at time.Time, audit *AuditEvent) error
	// RemoveTrustRoot unmarks certificate certificateID and appends
	// audit, in one transaction; a certificate not marked gives
	// ErrNotFound.
	RemoveTrustRoot(ctx context.Context, certificateID int64, audit *AuditEvent) error
	// TrustSystemRoots reports whether the system roots are trusted;
	// true until SetTrustSystemRoots says otherwise.
	TrustSystemRoots(ctx context.Context) (bool, error)
	// SetTrustSystemRoots switches the system roots on or off and appends
	// audit, in one transaction.
	SetTrustSystemRoots(ctx context.Context, on bool, audit *AuditEvent) error
}
