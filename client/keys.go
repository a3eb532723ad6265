package client

import (
	"context"
	"time"
)

// Key is a private key held (sealed) in the inventory; the key material is
// only ever returned by ExportKey.
type Key struct {
	ID int64 `json:"id"`
	// SPKISHA256 is the lowercase hex SHA-256 of the public key.
	SPKISHA256 string    `json:"spki_sha256"`
	Algorithm  string    `json:"algorithm"`
	Bits       int       `json:"bits"`
	Labels     []string  `json:"labels,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	// Usage is set by GetKey only.
	Usage *KeyUsage `json:"usage,omitempty"`
}

// KeyUsage lists what uses a key (at most 100 of each).
type KeyUsage struct {
	Certificates []int64 `json:"certificates"`
	Acquisitions []int64 `json:"acquisitions"`
}

// KeyList is one page of keys in ID order.
type KeyList struct {
	Items []Key  `json:"items"`
	Next  string `json:"next,omitempty"`
}

// KeyExport asks for a private key file.
type KeyExport struct {
	// Format is pem (PKCS#8 PEM; with a certificate, the chain then the
	// key), pkcs8 (PKCS#8 DER), pfx (PKCS#12) or jks (Java KeyStore).
	Format string `json:"format"`
	// Password encrypts the key (pem, pkcs8) or protects the store (pfx
	// and jks, where it is required).
	Password string `json:"password,omitempty"`
	// CertificateID bundles that certificate and its chain with the key;
	// pfx and jks without one use the newest certificate of the key.
	CertificateID int64 `json:"certificate_id,omitempty"`
}

// ListKeys returns one page of keys.
func (c *Client) ListKeys(ctx context.Context, p Page) (*KeyList, error) {
	var out KeyList
	return &out, c.do(ctx, call{method: "GET", path: path("keys"), query: p.values(), out: &out})
}

// GetKey returns a key and what uses it.
func (c *Client) GetKey(ctx context.Context, id int64) (*Key, error) {
	var out Key
	return &out, c.do(ctx, call{method: "GET", path: path("keys", id), out: &out})
}

// ExportKey returns the private key as a file (admin only; audited).
func (c *Client) ExportKey(ctx context.Context, id int64, e KeyExport) ([]byte, error) {
	var out []byte
	return out, c.do(ctx, call{method: "POST", path: path("keys", id, "export"), in: e, rawOut: &out})
}
