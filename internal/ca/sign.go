package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// signer signs certificates as one parent: the real key, and a throwaway
// key of the same type that signs the copy zlint checks, so that the real
// key never signs anything unlinted.
type signer struct {
	rand        io.Reader
	parent      *x509.Certificate
	key         crypto.Signer
	trialParent *x509.Certificate
	trialKey    crypto.Signer
}

// newSigner returns a signer for parent and key. For a self-signed
// certificate parent is the template itself.
func newSigner(rnd io.Reader, parent *x509.Certificate, key crypto.Signer) (*signer, error) {
	trialKey, err := throwawayKey(rnd, key.Public())
	if err != nil {
		return nil, err
	}
	trialParent := &x509.Certificate{
		RawSubject: parent.RawSubject, Subject: parent.Subject,
		SubjectKeyId: parent.SubjectKeyId, PublicKey: trialKey.Public(),
	}
	return &signer{rand: rnd, parent: parent, key: key, trialParent: trialParent, trialKey: trialKey}, nil
}

// throwawayKey makes a key that signs with the same algorithm as pub: the
// same curve, or RSA-2048 for any RSA key (the signature algorithm,
// SHA-256 with RSA, and so the TBSCertificate do not depend on its size).
func throwawayKey(rnd io.Reader, pub crypto.PublicKey) (crypto.Signer, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.GenerateKey(k.Curve, rnd)
	case *rsa.PublicKey:
		return rsa.GenerateKey(rnd, 2048)
	case ed25519.PublicKey:
		_, priv, err := ed25519.GenerateKey(rnd)
		return priv, err
	}
	return nil, fmt.Errorf("ca: unsupported CA key type %T", pub)
}

// linted is a certificate template that passed lint as signed by one
// signer. It is made only by signer.lint and is the only thing
// signer.sign accepts: a certificate that was not linted cannot be signed.
type linted struct {
	by   *signer
	tmpl *x509.Certificate
	pub  crypto.PublicKey
	// tbs is the linted TBSCertificate; the real one must be identical.
	tbs []byte
}

// lint signs a throwaway copy of tmpl for pub and runs the lints of set on
// it. Any warning, error or fatal result refuses the template.
func (s *signer) lint(l *linter, set lintSet, tmpl *x509.Certificate, pub crypto.PublicKey) (*linted, error) {
	der, err := x509.CreateCertificate(s.rand, tmpl, s.trialParent, pub, s.trialKey)
	if err != nil {
		return nil, fmt.Errorf("ca: prepare: %w", err)
	}
	tbs, err := rawTBS(der)
	if err != nil {
		return nil, err
	}
	if err := l.check(set, der); err != nil {
		return nil, err
	}
	return &linted{by: s, tmpl: tmpl, pub: pub, tbs: tbs}, nil
}

// rawTBS returns the TBSCertificate of a DER certificate (RFC 5280
// section 4.1: the first element of the outer SEQUENCE).
func rawTBS(der []byte) ([]byte, error) {
	in := cryptobyte.String(der)
	var cert, tbs cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1Element(&tbs, cbasn1.SEQUENCE) {
		return nil, errors.New("ca: prepare: malformed certificate")
	}
	return tbs, nil
}

// errUnlinted is returned when sign gets a token of another signer.
var errUnlinted = errors.New("ca: refusing to sign a certificate that was not linted for this CA")

// sign signs the linted template with the real key and checks that the
// result is the certificate that was linted.
func (s *signer) sign(l *linted) (*x509.Certificate, error) {
	if l == nil || l.by != s {
		return nil, errUnlinted
	}
	der, err := x509.CreateCertificate(s.rand, l.tmpl, s.parent, l.pub, s.key)
	if err != nil {
		return nil, fmt.Errorf("ca: sign: %w", err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: sign: %w", err)
	}
	if !bytes.Equal(c.RawTBSCertificate, l.tbs) {
		return nil, errors.New("ca: sign: the signed certificate differs from the linted one")
	}
	return c, nil
}

// issuer is a loaded, active CA: its record, chain and signer.
type issuer struct {
	ca    inventory.CA
	cert  *x509.Certificate
	chain []*x509.Certificate
	key   crypto.Signer
	*signer
}

func newIssuer(rnd io.Reader, c inventory.CA, chain []*x509.Certificate, key crypto.Signer) (*issuer, error) {
	if len(chain) == 0 {
		return nil, fmt.Errorf("ca: %s: no certificate", c.Name)
	}
	s, err := newSigner(rnd, chain[0], key)
	if err != nil {
		return nil, err
	}
	return &issuer{ca: c, cert: chain[0], chain: chain, key: key, signer: s}, nil
}

// generateKey makes a key of spec.
func generateKey(rnd io.Reader, spec KeySpec) (crypto.Signer, error) {
	switch spec {
	case ECDSAP256, "":
		return ecdsa.GenerateKey(elliptic.P256(), rnd)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rnd)
	case RSA2048, RSA3072, RSA4096:
		bits := map[KeySpec]int{RSA2048: 2048, RSA3072: 3072, RSA4096: 4096}[spec]
		return rsa.GenerateKey(rnd, bits)
	case Ed25519:
		_, priv, err := ed25519.GenerateKey(rnd)
		return priv, err
	}
	return nil, refused("key_type", "unknown key type %q (want ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096 or ed25519)", spec)
}
