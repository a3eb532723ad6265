package client

import (
	"context"
	"time"
)

// TrustStore is what uploads and deploy checks trust: the system roots
// when SystemRoots is on, and Roots. Importing a certificate never adds
// it here; an Admin marks a root.
type TrustStore struct {
	SystemRoots bool        `json:"system_roots"`
	Roots       []TrustRoot `json:"roots"`
}

// TrustRoot is one trusted root.
type TrustRoot struct {
	Certificate Certificate `json:"certificate"`
	// Source is "ca" for the root of one of certkeeper's CAs (trusted
	// while the CA exists, not removable) or "marked" for a root an
	// Admin marked.
	Source string `json:"source"`
	// CA names the CA, for source "ca".
	CA string `json:"ca,omitempty"`
	// AddedBy and AddedAt say who marked the root and when (the CA's
	// creation for source "ca").
	AddedBy string    `json:"added_by,omitempty"`
	AddedAt time.Time `json:"added_at"`
}

// TrustRootAdd marks a certificate of the inventory as a trusted root.
type TrustRootAdd struct {
	// CertificateID must be a self-signed CA certificate.
	CertificateID int64 `json:"certificate_id"`
}

// SystemRoots switches the system roots on or off.
type SystemRoots struct {
	Enabled bool `json:"enabled"`
}

// GetTrustStore returns the trust store.
func (c *Client) GetTrustStore(ctx context.Context) (*TrustStore, error) {
	var out TrustStore
	return &out, c.do(ctx, call{method: "GET", path: path("trust-store"), out: &out})
}

// AddTrustRoot marks certificate id as a trusted root (admins only).
func (c *Client) AddTrustRoot(ctx context.Context, id int64) (*TrustRoot, error) {
	var out TrustRoot
	return &out, c.do(ctx, call{method: "POST", path: path("trust-store", "roots"), in: TrustRootAdd{CertificateID: id}, out: &out})
}

// RemoveTrustRoot unmarks certificate id (admins only).
func (c *Client) RemoveTrustRoot(ctx context.Context, id int64) error {
	return c.do(ctx, call{method: "DELETE", path: path("trust-store", "roots", id)})
}

// SetSystemRoots switches whether the system roots are trusted (admins
// only) and returns the trust store.
func (c *Client) SetSystemRoots(ctx context.Context, on bool) (*TrustStore, error) {
	var out TrustStore
	return &out, c.do(ctx, call{method: "PUT", path: path("trust-store", "system-roots"), in: SystemRoots{Enabled: on}, out: &out})
}
