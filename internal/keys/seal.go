// Package keys protects private keys at rest and loads the master key.
//
// Every private key is sealed with envelope encryption: a fresh 256-bit
// data key encrypts the key material with AES-256-GCM, and the data key is
// itself encrypted (wrapped) under the master key, also with AES-256-GCM.
// Re-keying therefore only re-wraps the small data keys. Each sealed blob
// names the master key that wrapped it by a short key identifier, so a
// Sealer holding several master keys (a keyring) opens blobs sealed under
// any of them while sealing with the newest.
package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// MasterKeySize is the size in bytes of a master key.
const MasterKeySize = 32

const (
	sealVersion = 1
	kekIDSize   = 8
	nonceSize   = 12
	dekSize     = 32
	tagSize     = 16
	wrappedSize = nonceSize + dekSize + tagSize
	headerSize  = 1 + kekIDSize + wrappedSize
)

// ErrUnknownMasterKey means a sealed blob was wrapped under a master key
// that the Sealer does not hold.
var ErrUnknownMasterKey = errors.New("keys: sealed under a master key this instance does not hold")

// errOpenOnly is what a Sealer without a master key says when asked to
// seal.
var errOpenOnly = fmt.Errorf("%w: the key file does not exist, and this command does not create one", ErrNoMasterKey)

// ErrCorrupt means a sealed blob failed authentication: it was altered,
// truncated, or sealed for another object.
var ErrCorrupt = errors.New("keys: sealed data failed authentication")

// Sealer seals and opens secrets under master keys. It is safe for
// concurrent use.
type Sealer struct {
	primary kek
	others  []kek
	rand    io.Reader
	// openOnly refuses Seal and Rewrap: the primary key is a stand-in
	// that no file keeps (see Unlock).
	openOnly bool
}

type kek struct {
	id   [kekIDSize]byte
	aead cipher.AEAD
}

// NewSealer returns a Sealer that seals under primary and opens blobs
// sealed under primary or any of older. rnd supplies randomness for data
// keys and nonces; nil means crypto/rand.
func NewSealer(rnd io.Reader, primary []byte, older ...[]byte) (*Sealer, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	p, err := newKEK(primary)
	if err != nil {
		return nil, err
	}
	s := &Sealer{primary: p, rand: rnd}
	for _, o := range older {
		k, err := newKEK(o)
		if err != nil {
			return nil, err
		}
		s.others = append(s.others, k)
	}
	return s, nil
}

func newKEK(master []byte) (kek, error) {
	if len(master) != MasterKeySize {
		return kek{}, fmt.Errorf("keys: master key must be %d bytes, got %d", MasterKeySize, len(master))
	}
	aead, err := newGCM(master)
	if err != nil {
		return kek{}, err
	}
	var k kek
	sum := sha256.Sum256(append([]byte("certkeeper master key id\x00"), master...))
	copy(k.id[:], sum[:kekIDSize])
	k.aead = aead
	return k, nil
}

// KeyID returns the hex identifier of the primary master key, which is
// safe to log.
func (s *Sealer) KeyID() string { return fmt.Sprintf("%x", s.primary.id) }

// Seal encrypts plaintext. context binds the blob to the object it
// protects (for a private key, its public-key hash): Open with another
// context fails.
func (s *Sealer) Seal(plaintext, context []byte) ([]byte, error) {
	if s.openOnly {
		return nil, errOpenOnly
	}
	dek := make([]byte, dekSize)
	if _, err := io.ReadFull(s.rand, dek); err != nil {
		return nil, fmt.Errorf("keys: random: %w", err)
	}
	out := make([]byte, 0, headerSize+nonceSize+len(plaintext)+tagSize)
	out = append(out, sealVersion)
	out = append(out, s.primary.id[:]...)
	wrapped, err := s.wrap(s.primary, dek)
	if err != nil {
		return nil, err
	}
	out = append(out, wrapped...)
	data, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	nonce, err := s.nonce()
	if err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	return data.Seal(out, nonce, plaintext, dataAAD(context)), nil
}

// Open decrypts a blob made by Seal with the same context.
func (s *Sealer) Open(sealed, context []byte) ([]byte, error) {
	dek, err := s.unwrap(sealed)
	if err != nil {
		return nil, err
	}
	body := sealed[headerSize:]
	if len(body) < nonceSize+tagSize {
		return nil, ErrCorrupt
	}
	data, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	plain, err := data.Open(nil, body[:nonceSize], body[nonceSize:], dataAAD(context))
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}

// Rewrap re-encrypts the data key of a sealed blob under the primary
// master key, leaving the encrypted data untouched. A blob already under
// the primary key is returned as is.
func (s *Sealer) Rewrap(sealed []byte) ([]byte, error) {
	if s.openOnly {
		return nil, errOpenOnly
	}
	dek, err := s.unwrap(sealed)
	if err != nil {
		return nil, err
	}
	if [kekIDSize]byte(sealed[1:1+kekIDSize]) == s.primary.id {
		return sealed, nil
	}
	wrapped, err := s.wrap(s.primary, dek)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(sealed))
	out = append(out, sealVersion)
	out = append(out, s.primary.id[:]...)
	out = append(out, wrapped...)
	return append(out, sealed[headerSize:]...), nil
}

// Opens reports whether the Sealer holds the master key a blob was sealed
// under, by unwrapping the blob's data key: nil, ErrUnknownMasterKey, or
// ErrCorrupt (a key with the same identifier that does not open it, or a
// damaged blob). It does not need the blob's context.
func (s *Sealer) Opens(sealed []byte) error {
	_, err := s.unwrap(sealed)
	return err
}

// SealedKeyID returns the hex identifier of the master key a blob was
// sealed under.
func SealedKeyID(sealed []byte) (string, error) {
	if len(sealed) < headerSize || sealed[0] != sealVersion {
		return "", ErrCorrupt
	}
	return fmt.Sprintf("%x", sealed[1:1+kekIDSize]), nil
}

func (s *Sealer) wrap(k kek, dek []byte) ([]byte, error) {
	nonce, err := s.nonce()
	if err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, dek, wrapAAD(k.id)), nil
}

func (s *Sealer) unwrap(sealed []byte) ([]byte, error) {
	if len(sealed) < headerSize || sealed[0] != sealVersion {
		return nil, ErrCorrupt
	}
	id := [kekIDSize]byte(sealed[1 : 1+kekIDSize])
	k, ok := s.find(id)
	if !ok {
		return nil, ErrUnknownMasterKey
	}
	w := sealed[1+kekIDSize : headerSize]
	dek, err := k.aead.Open(nil, w[:nonceSize], w[nonceSize:], wrapAAD(id))
	if err != nil {
		return nil, ErrCorrupt
	}
	return dek, nil
}

func (s *Sealer) find(id [kekIDSize]byte) (kek, bool) {
	if s.primary.id == id {
		return s.primary, true
	}
	for _, k := range s.others {
		if k.id == id {
			return k, true
		}
	}
	return kek{}, false
}

func (s *Sealer) nonce() ([]byte, error) {
	n := make([]byte, nonceSize)
	if _, err := io.ReadFull(s.rand, n); err != nil {
		return nil, fmt.Errorf("keys: random: %w", err)
	}
	return n, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return cipher.NewGCM(block)
}

func wrapAAD(id [kekIDSize]byte) []byte {
	return append([]byte("certkeeper dek v1\x00"), id[:]...)
}

func dataAAD(context []byte) []byte {
	return append([]byte("certkeeper data v1\x00"), context...)
}
