// Package format decodes and encodes keys and certificates in every
// container people keep them in: PEM, DER, PKCS#7, PKCS#12 and Java
// KeyStore. Decoding detects the format, orders the chain leaf to root and
// matches the private key to the leaf.
package format

import (
	"crypto"
	"crypto/x509"
	"errors"
	"time"
)

// MaxInputSize is the largest input Decode accepts (8 MiB).
const MaxInputSize = 8 << 20

// Kind names a container format detected by Decode.
type Kind string

// Detected kinds.
const (
	KindPEM    Kind = "pem"
	KindDER    Kind = "der"
	KindPKCS7  Kind = "pkcs7"
	KindPKCS12 Kind = "pkcs12"
	KindJKS    Kind = "jks"
)

// Target names an output format for Encode.
type Target string

// Encode targets.
const (
	TargetPEM         Target = "pem"          // all certificates, leaf first, PEM
	TargetCert        Target = "cert"         // leaf only, PEM
	TargetChain       Target = "chain"        // the chain without the leaf, PEM
	TargetFullchain   Target = "fullchain"    // leaf + intermediates (no self-signed root), PEM
	TargetKey         Target = "key"          // private key, PKCS#8 PEM (encrypted when a password is given)
	TargetCombinedPEM Target = "combined-pem" // fullchain then key, one PEM (web-server.pem style)
	TargetDER         Target = "der"          // leaf, DER
	TargetP7B         Target = "p7b"          // all certificates, PKCS#7 DER
	TargetPFX         Target = "pfx"          // PKCS#12, AES-256/PBKDF2 (Modern2023)
	TargetPFXLegacy   Target = "pfx-legacy"   // PKCS#12, RC2/3DES (Legacy)
	TargetJKS         Target = "jks"          // Java KeyStore
)

// Targets lists every encode target in a stable order.
var Targets = []Target{TargetPEM, TargetCert, TargetChain, TargetFullchain, TargetKey,
	TargetCombinedPEM, TargetDER, TargetP7B, TargetPFX, TargetPFXLegacy, TargetJKS}

// Bundle is what a file holds, put in order.
type Bundle struct {
	// Kind is the container the bundle was decoded from.
	Kind Kind
	// Chain is the leaf followed by its issuers, ordered towards the root,
	// as far as the input allows. Empty when the input holds no certificate.
	Chain []*x509.Certificate
	// Others are certificates that are not part of Chain (for example the
	// entries of a trust store, or unrelated certificates in one PEM).
	Others []*x509.Certificate
	// Key is the private key, or nil. It is an *rsa.PrivateKey,
	// *ecdsa.PrivateKey or ed25519.PrivateKey.
	Key crypto.Signer
	// KeyMatchesLeaf reports whether Key's public key is the leaf's.
	KeyMatchesLeaf bool
	// Alias is the key-store alias of the key entry (JKS, PKCS#12 friendly
	// name), when the input had one.
	Alias string
}

// Leaf returns the first certificate of the chain, or nil.
func (b *Bundle) Leaf() *x509.Certificate {
	if len(b.Chain) == 0 {
		return nil
	}
	return b.Chain[0]
}

// Errors callers may test with errors.Is. Decode and Encode usually return
// an *Error that wraps one of them and names the format.
var (
	ErrTooLarge        = errors.New("format: input larger than 8 MiB")
	ErrPasswordNeeded  = errors.New("format: password needed")
	ErrWrongPassword   = errors.New("format: wrong password or corrupted file")
	ErrUnknownFormat   = errors.New("format: not a recognised certificate or key format")
	ErrNothingToEncode = errors.New("format: nothing to encode")
	// ErrMalformed reports input that looks like a known format but is
	// structurally broken, including input that made a third-party parser
	// panic.
	ErrMalformed = errors.New("format: malformed input")
)

// EncodeOptions tune Encode. The zero value works where no password is
// needed.
type EncodeOptions struct {
	// Password protects PFX and JKS outputs (required for them) and, when
	// set, encrypts the key in TargetKey and TargetCombinedPEM output
	// (PKCS#8, AES-256-CBC, PBKDF2).
	Password []byte
	// Alias is the key-store alias for JKS and the friendly name of PFX
	// trust-store entries; empty means "certkeeper". (go-pkcs12 writes no
	// friendly name on a PFX key entry.)
	Alias string
	// Time is the creation time written in JKS entries; zero means
	// time.Now().
	Time time.Time
}
