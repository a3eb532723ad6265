package format

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/youmark/pkcs8"
	"software.sslmate.com/src/go-pkcs12"
)

// ErrUnknownTarget is returned by ParseTarget and Encode for a target name
// that is not in Targets.
var ErrUnknownTarget = errors.New("format: unknown target")

// keyIterations is the PBKDF2-HMAC-SHA256 iteration count of encrypted
// PKCS#8 output: well above OpenSSL's 2048, and about 40 ms per key.
const keyIterations = 100_000

// defaultAlias is used when EncodeOptions.Alias is empty.
const defaultAlias = "certkeeper"

// ParseTarget validates a user-given target name (case and surrounding
// space are ignored). The error is one line listing the valid names.
func ParseTarget(s string) (Target, error) {
	t := Target(strings.ToLower(strings.TrimSpace(s)))
	for _, v := range Targets {
		if t == v {
			return t, nil
		}
	}
	names := make([]string, len(Targets))
	for i, v := range Targets {
		names[i] = string(v)
	}
	return "", errorf("", ErrUnknownTarget, "unknown target %q (valid: %s)", s, strings.Join(names, ", "))
}

// Encode writes b in the target format (see the Target constants). PEM
// outputs follow RFC 7468; "key" is PKCS#8 (RFC 5958), encrypted with
// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC; RFC 8018) when opts.Password is
// set. "pfx", "pfx-legacy" and "jks" need opts.Password; with a key they
// hold the key and Chain (Others are left out), without one they are
// trust stores of every certificate. Targets that need a leaf, a key or
// a key matching the leaf fail with an *Error wrapping ErrNothingToEncode
// (or ErrPasswordNeeded) when it is absent.
func Encode(b *Bundle, t Target, opts EncodeOptions) ([]byte, error) {
	if b == nil {
		return nil, errorf(string(t), ErrNothingToEncode, "no bundle")
	}
	switch t {
	case TargetPEM:
		return pemCerts(t, allCerts(b))
	case TargetCert, TargetDER:
		return encodeLeaf(b, t)
	case TargetChain:
		if len(b.Chain) < 2 {
			return nil, errorf(string(t), ErrNothingToEncode, "no issuer certificate in the chain")
		}
		return pemCerts(t, b.Chain[1:])
	case TargetFullchain:
		return pemCerts(t, fullchain(b))
	case TargetKey:
		return encodeKeyPEM(b.Key, t, opts.Password)
	case TargetCombinedPEM:
		return encodeCombined(b, opts.Password)
	case TargetP7B:
		return encodeCerts(t, allCerts(b), encodeP7B)
	case TargetPFX:
		return encodePFX(b, t, opts, pkcs12.Modern2023)
	case TargetPFXLegacy:
		return encodePFX(b, t, opts, pkcs12.Legacy)
	case TargetJKS:
		return encodeJKS(b, opts)
	}
	_, err := ParseTarget(string(t))
	return nil, err
}

// allCerts is Chain followed by Others.
func allCerts(b *Bundle) []*x509.Certificate {
	return append(append([]*x509.Certificate(nil), b.Chain...), b.Others...)
}

// fullchain is Chain without a self-signed root at its end.
func fullchain(b *Bundle) []*x509.Certificate {
	n := len(b.Chain)
	if n > 1 && selfSigned(b.Chain[n-1]) {
		n--
	}
	return b.Chain[:n]
}

// selfSigned reports whether c names and verifies itself as its issuer.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) && signedBy(c, c)
}

// encodeLeaf writes the leaf as PEM (cert) or DER (der).
func encodeLeaf(b *Bundle, t Target) ([]byte, error) {
	leaf := b.Leaf()
	if leaf == nil {
		return nil, errorf(string(t), ErrNothingToEncode, "no certificate")
	}
	if t == TargetDER {
		return append([]byte(nil), leaf.Raw...), nil
	}
	return pemCerts(t, b.Chain[:1])
}

// pemCerts writes "CERTIFICATE" blocks (RFC 7468 §5).
func pemCerts(t Target, certs []*x509.Certificate) ([]byte, error) {
	return encodeCerts(t, certs, func(certs []*x509.Certificate) ([]byte, error) {
		var out bytes.Buffer
		for _, c := range certs {
			if err := pem.Encode(&out, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
				return nil, err
			}
		}
		return out.Bytes(), nil
	})
}

// encodeCerts fails on an empty list, then calls enc.
func encodeCerts(t Target, certs []*x509.Certificate, enc func([]*x509.Certificate) ([]byte, error)) ([]byte, error) {
	if len(certs) == 0 {
		return nil, errorf(string(t), ErrNothingToEncode, "no certificate")
	}
	return libResult(string(t))(enc(certs))
}

// encodeKeyPEM writes key as "PRIVATE KEY" (RFC 7468 §10) or, with a
// password, "ENCRYPTED PRIVATE KEY" (RFC 7468 §11).
func encodeKeyPEM(key crypto.Signer, t Target, password []byte) ([]byte, error) {
	if key == nil {
		return nil, errorf(string(t), ErrNothingToEncode, "no private key")
	}
	typ := "PRIVATE KEY"
	if len(password) > 0 {
		typ = "ENCRYPTED PRIVATE KEY"
	}
	opts := &pkcs8.Opts{
		Cipher:  pkcs8.AES256CBC,
		KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 16, IterationCount: keyIterations, HMACHash: crypto.SHA256},
	}
	der, err := pkcs8.MarshalPrivateKey(key, password, opts)
	if err != nil {
		return nil, errorf(string(t), nil, "%s", libError(err, "pkcs8: ", "x509: "))
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), nil
}

// encodeCombined writes the full chain then the key, for servers that
// read both from one file.
func encodeCombined(b *Bundle, password []byte) ([]byte, error) {
	t := TargetCombinedPEM
	if _, err := keyedLeaf(b, string(t)); err != nil {
		return nil, err
	}
	certs, err := pemCerts(t, fullchain(b))
	if err != nil {
		return nil, err
	}
	key, err := encodeKeyPEM(b.Key, t, password)
	if err != nil {
		return nil, err
	}
	return append(certs, key...), nil
}

// keyedLeaf returns the leaf when b has a key that matches it.
func keyedLeaf(b *Bundle, name string) (*x509.Certificate, error) {
	leaf := b.Leaf()
	switch {
	case b.Key == nil:
		return nil, errorf(name, ErrNothingToEncode, "no private key")
	case leaf == nil:
		return nil, errorf(name, ErrNothingToEncode, "no certificate for the private key")
	case !keyMatches(b.Key, leaf):
		return nil, errorf(name, nil, "the private key does not match the leaf certificate")
	}
	return leaf, nil
}

// entryAliases names n key-store entries: alias, or alias-1 ... alias-n.
func entryAliases(alias string, n int) []string {
	if alias == "" {
		alias = defaultAlias
	}
	if n == 1 {
		return []string{alias}
	}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", alias, i+1)
	}
	return out
}

// libResult wraps a library's error as an *Error of format name.
func libResult(name string) func([]byte, error) ([]byte, error) {
	return func(out []byte, err error) ([]byte, error) {
		if err != nil {
			return nil, errorf(name, nil, "%s", libError(err, "pkcs12: ", "pkcs7: "))
		}
		return out, nil
	}
}
