package inventory

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"time"
)

// SHA256Hex returns the lowercase hex SHA-256 of data.
func SHA256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// SHA1Hex returns the lowercase hex SHA-1 of data (shown for compatibility
// with tools that still print it; never used to identify anything).
func SHA1Hex(data []byte) string {
	s := sha1.Sum(data)
	return hex.EncodeToString(s[:])
}

// SPKIHash returns the lowercase hex SHA-256 of the DER
// SubjectPublicKeyInfo of pub.
func SPKIHash(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("inventory: public key: %w", err)
	}
	return SHA256Hex(der), nil
}

// PublicKeyInfo returns the algorithm and size of a public key. Unknown key
// types return "" and 0.
func PublicKeyInfo(pub crypto.PublicKey) (KeyAlgorithm, int) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return RSA, k.N.BitLen()
	case *ecdsa.PublicKey:
		return ECDSA, k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return Ed25519, 256
	}
	return "", 0
}

// SANs returns the subject alternative names of c as strings: DNS names,
// IP addresses, e-mail addresses and URIs, in that order.
func SANs(c *x509.Certificate) []string {
	out := make([]string, 0, len(c.DNSNames)+len(c.IPAddresses))
	out = append(out, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	out = append(out, c.EmailAddresses...)
	for _, u := range c.URIs {
		out = append(out, u.String())
	}
	return out
}

// NewCertificate builds the inventory record of a parsed certificate.
// source says where it came from (e.g. "import:site.pfx").
func NewCertificate(c *x509.Certificate, source string) *Certificate {
	alg, bits := PublicKeyInfo(c.PublicKey)
	spki := SHA256Hex(c.RawSubjectPublicKeyInfo)
	return &Certificate{
		SHA256:             SHA256Hex(c.Raw),
		SHA1:               SHA1Hex(c.Raw),
		Serial:             hex.EncodeToString(c.SerialNumber.Bytes()),
		Subject:            c.Subject.String(),
		CommonName:         c.Subject.CommonName,
		Issuer:             c.Issuer.String(),
		SANs:               SANs(c),
		NotBefore:          c.NotBefore.UTC().Truncate(time.Second),
		NotAfter:           c.NotAfter.UTC().Truncate(time.Second),
		IsCA:               c.IsCA,
		SelfSigned:         IsSelfSigned(c),
		SubjectKeyID:       hex.EncodeToString(c.SubjectKeyId),
		AuthorityKeyID:     hex.EncodeToString(c.AuthorityKeyId),
		KeyAlgorithm:       alg,
		KeyBits:            bits,
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		SPKISHA256:         spki,
		DER:                c.Raw,
		Source:             source,
	}
}

// IsSelfSigned reports whether c is signed by its own key (subject equals
// issuer and the signature verifies).
func IsSelfSigned(c *x509.Certificate) bool {
	if !bytes.Equal(c.RawSubject, c.RawIssuer) {
		return false
	}
	return c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}
