// Package bundle loads a stored certificate with its known chain and, when
// asked, its unsealed private key, in the form package format encodes.
// The export command and the API's downloads and key export share it.
package bundle

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// Store is what loading a bundle needs from the inventory.
type Store interface {
	Chain(ctx context.Context, id int64) ([]inventory.Certificate, error)
	GetKey(ctx context.Context, id int64) (*inventory.Key, error)
}

// Certificates returns a bundle holding certificate certID followed by its
// known issuers, leaf first, without a key. An unknown certificate gives
// an error wrapping inventory.ErrNotFound.
func Certificates(ctx context.Context, st Store, certID int64) (*format.Bundle, error) {
	chain, err := st.Chain(ctx, certID)
	if err != nil {
		return nil, err
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("bundle: no certificate %d: %w", certID, inventory.ErrNotFound)
	}
	b := &format.Bundle{Chain: make([]*x509.Certificate, 0, len(chain))}
	for _, rec := range chain {
		xc, err := x509.ParseCertificate(rec.DER)
		if err != nil {
			return nil, fmt.Errorf("bundle: certificate %d: stored DER does not parse: %w", rec.ID, err)
		}
		b.Chain = append(b.Chain, xc)
	}
	return b, nil
}

// AddKey unseals key keyID into b. KeyMatchesLeaf is set when the key's
// public key is the leaf's. The caller audits the export.
func AddKey(ctx context.Context, st Store, sealer *keys.Sealer, b *format.Bundle, keyID int64) error {
	k, err := st.GetKey(ctx, keyID)
	if err != nil {
		return err
	}
	if b.Key, err = keys.OpenPrivateKey(sealer, k); err != nil {
		return err
	}
	leaf := b.Leaf()
	b.KeyMatchesLeaf = leaf != nil && inventory.SHA256Hex(leaf.RawSubjectPublicKeyInfo) == k.SPKISHA256
	return nil
}

// Load returns certificate certID with its chain and, when withKey is set
// and the inventory holds the certificate's key, the key. keyID is the
// key's ID, or zero when no key was added.
func Load(ctx context.Context, st Store, sealer *keys.Sealer, cert *inventory.Certificate, withKey bool) (b *format.Bundle, keyID int64, err error) {
	if b, err = Certificates(ctx, st, cert.ID); err != nil {
		return nil, 0, err
	}
	if !withKey || cert.KeyID == 0 {
		return b, 0, nil
	}
	if err := AddKey(ctx, st, sealer, b, cert.KeyID); err != nil {
		return nil, 0, err
	}
	return b, cert.KeyID, nil
}
