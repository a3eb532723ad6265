package format

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

const pemFormat = string(KindPEM)

// pemContents gathers what the blocks of one PEM file hold.
type pemContents struct {
	certs []*x509.Certificate
	key   crypto.Signer
}

// decodePEM reads every textual encoding block (RFC 7468 §2) in data, in
// any order. Text outside the blocks (openssl's "subject=" lines, "Bag
// Attributes") and blocks of other types (CSRs, CRLs, parameters, public
// keys) are ignored.
func decodePEM(data, password []byte) (b *Bundle, err error) {
	defer recoverMalformed(&b, &err)
	var c pemContents
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if err := c.add(block, password); err != nil {
			return nil, err
		}
	}
	if len(c.certs) == 0 && c.key == nil {
		return nil, errorf(pemFormat, ErrUnknownFormat, "no certificate or private key block")
	}
	return buildBundle(KindPEM, c.certs, c.key, false), nil
}

// add reads one block by its label (RFC 7468 §5-§11).
func (c *pemContents) add(block *pem.Block, password []byte) error {
	switch block.Type {
	case "CERTIFICATE", "X509 CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return malformedf(pemFormat, "certificate block: %s", libError(err, "x509: "))
		}
		c.certs = append(c.certs, cert)
	case "TRUSTED CERTIFICATE":
		return c.addTrusted(block.Bytes)
	case "PKCS7":
		certs, err := parsePKCS7Certs(block.Bytes)
		if err != nil {
			return err
		}
		c.certs = append(c.certs, certs...)
	case "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
		return c.addKey(block, password)
	}
	return nil
}

// addTrusted reads OpenSSL's "TRUSTED CERTIFICATE": a DER certificate
// followed by OpenSSL's trust settings, which are dropped.
func (c *pemContents) addTrusted(der []byte) error {
	in := cryptobyte.String(der)
	var raw cryptobyte.String
	if !in.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
		return malformedf(pemFormat, "trusted certificate block is not der")
	}
	cert, err := x509.ParseCertificate(raw)
	if err != nil {
		return malformedf(pemFormat, "trusted certificate block: %s", libError(err, "x509: "))
	}
	c.certs = append(c.certs, cert)
	return nil
}

// addKey reads one private key block; a file may hold only one key.
func (c *pemContents) addKey(block *pem.Block, password []byte) error {
	if c.key != nil {
		return errorf(pemFormat, nil, "more than one private key")
	}
	der := block.Bytes
	//lint:ignore SA1019 legacy "Proc-Type: 4,ENCRYPTED" PEM (RFC 1421) is still written by openssl -traditional; only read here.
	if x509.IsEncryptedPEMBlock(block) {
		var err error
		if der, err = decryptLegacyPEM(block, password); err != nil {
			return err
		}
	}
	key, err := parseDERKey(pemFormat, der, password)
	if err != nil {
		if block.Headers["Proc-Type"] != "" && errors.Is(err, ErrMalformed) {
			// A wrong password can pass the padding check by chance.
			return wrongPassword(pemFormat)
		}
		return err
	}
	c.key = key
	return nil
}

// decryptLegacyPEM decrypts an RFC 1421 "Proc-Type: 4,ENCRYPTED" block
// (DES-EDE3-CBC, AES-*-CBC with OpenSSL's MD5 key derivation).
func decryptLegacyPEM(block *pem.Block, password []byte) ([]byte, error) {
	if len(password) == 0 {
		return nil, passwordNeeded(pemFormat)
	}
	//lint:ignore SA1019 see addKey: reading legacy encrypted PEM is the point.
	der, err := x509.DecryptPEMBlock(block, password)
	if errors.Is(err, x509.IncorrectPasswordError) {
		return nil, wrongPassword(pemFormat)
	}
	if err != nil {
		return nil, malformedf(pemFormat, "encrypted key block: %s", libError(err, "x509: "))
	}
	return der, nil
}
