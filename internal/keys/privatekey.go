package keys

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// SealPrivateKey builds the inventory record of a private key, with the
// key material (PKCS#8 DER) sealed and bound to its public-key hash.
func SealPrivateKey(s *Sealer, priv crypto.Signer, now time.Time) (*inventory.Key, error) {
	spki, err := inventory.SPKIHash(priv.Public())
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal private key: %w", err)
	}
	defer clear(der)
	sealed, err := s.Seal(der, []byte(spki))
	if err != nil {
		return nil, err
	}
	alg, bits := inventory.PublicKeyInfo(priv.Public())
	return &inventory.Key{
		SPKISHA256: spki,
		Algorithm:  alg,
		Bits:       bits,
		Sealed:     sealed,
		CreatedAt:  now.UTC(),
	}, nil
}

// OpenPrivateKey unseals a stored key and checks that it still is the key
// its record says.
func OpenPrivateKey(s *Sealer, k *inventory.Key) (crypto.Signer, error) {
	der, err := s.Open(k.Sealed, []byte(k.SPKISHA256))
	if err != nil {
		return nil, fmt.Errorf("keys: key %d: %w", k.ID, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: key %d: %w", k.ID, err)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: key %d: unsupported key type %T", k.ID, parsed)
	}
	spki, err := inventory.SPKIHash(signer.Public())
	if err != nil || spki != k.SPKISHA256 {
		return nil, fmt.Errorf("keys: key %d: public key does not match its record", k.ID)
	}
	return signer, nil
}
