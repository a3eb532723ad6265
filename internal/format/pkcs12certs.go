package format

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
)

// Reading a PFX that holds certificates and no private key, as `openssl
// pkcs12 -export -nokeys` writes it: the pkcs12 library reads such a file
// only when it is a Java trust store (each certificate bag marked
// trusted). readPKCS12Certs checks the MAC, decrypts the encrypted safes
// (PBES2 with AES or triple DES, or the PKCS#12 triple-DES schemes) and
// returns the certificates of every certificate bag.

// More object identifiers of RFC 7292 §4.2 and Appendix D, and RFC 5652.
var (
	oidEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidCertBag       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidX509CertType  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// Outcomes of readPKCS12Certs that the caller reports in its own words.
var (
	errPFXHasKey   = errors.New("the file holds a private key")
	errPFXPassword = errors.New("wrong password")
)

type (
	macData struct {
		Mac        digestInfo
		MacSalt    []byte
		Iterations int `asn1:"optional,default:1"`
	}
	digestInfo struct {
		Algorithm pkix.AlgorithmIdentifier
		Digest    []byte
	}
	encryptedData struct {
		Version int
		Content encryptedContentInfo
	}
	encryptedContentInfo struct {
		ContentType asn1.ObjectIdentifier
		Algorithm   pkix.AlgorithmIdentifier
		Encrypted   asn1.RawValue `asn1:"tag:0,optional"`
	}
	certBag struct {
		ID    asn1.ObjectIdentifier
		Value asn1.RawValue `asn1:"tag:0,explicit"`
	}
)

// readPKCS12Certs returns the certificates of a PFX without a private key.
// The caller has scanned data with berScanner (sizes, nesting, KDF costs).
func readPKCS12Certs(data, password []byte) ([]*x509.Certificate, error) {
	var pfx pfxPDU
	if rest, err := asn1.Unmarshal(data, &pfx); err != nil || len(rest) != 0 || pfx.Version != 3 {
		return nil, errors.New("not a version 3 pfx")
	}
	if !pfx.AuthSafe.ContentType.Equal(oidData) {
		return nil, errors.New("authenticated safe is not plain data (public-key integrity is not supported)")
	}
	var safe []byte
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &safe); err != nil {
		return nil, errors.New("invalid authenticated safe")
	}
	pw, err := checkPFXMAC(pfx.MacData, safe, password)
	if err != nil {
		return nil, err
	}
	var infos []contentInfo
	if rest, err := asn1.Unmarshal(safe, &infos); err != nil || len(rest) != 0 {
		return nil, errors.New("invalid authenticated safe")
	}
	var certs []*x509.Certificate
	for _, ci := range infos {
		c, err := safeCertificates(ci, pw)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c...)
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate in the file")
	}
	return certs, nil
}

// checkPFXMAC verifies the MAC (RFC 7292 §5) with each encoding of the
// password and returns the one that matches. Without a MAC the password
// is taken as given and decryption judges it.
func checkPFXMAC(raw asn1.RawValue, safe, password []byte) (pbePassword, error) {
	if len(raw.FullBytes) == 0 {
		return newPBEPassword(password, false)
	}
	var m macData
	if rest, err := asn1.Unmarshal(raw.FullBytes, &m); err != nil || len(rest) != 0 {
		return pbePassword{}, errors.New("invalid mac data")
	}
	h, err := macHash(m.Mac.Algorithm.Algorithm)
	if err != nil {
		return pbePassword{}, err
	}
	if m.Iterations < 1 || m.Iterations > maxKDFIterations {
		return pbePassword{}, fmt.Errorf("mac iteration count %d outside 1..%d", m.Iterations, maxKDFIterations)
	}
	for _, emptyNil := range []bool{false, true} {
		pw, err := newPBEPassword(password, emptyNil)
		if err != nil {
			return pbePassword{}, err
		}
		if hmac.Equal(pkcs12MAC(h, pw.bmp, m.MacSalt, m.Iterations, safe), m.Mac.Digest) {
			return pw, nil
		}
		if len(password) != 0 {
			break // only an empty password has two encodings
		}
	}
	return pbePassword{}, errPFXPassword
}

// macHash returns the hash of a PFX MAC's digest algorithm.
func macHash(oid asn1.ObjectIdentifier) (func() hash.Hash, error) {
	switch {
	case oid.Equal(oidSHA1):
		return sha1.New, nil
	case oid.Equal(oidSHA256):
		return sha256.New, nil
	case oid.Equal(oidSHA384):
		return sha512.New384, nil
	case oid.Equal(oidSHA512):
		return sha512.New, nil
	}
	return nil, fmt.Errorf("mac algorithm %v is not supported", oid)
}

// safeCertificates returns the certificates of one safe of the
// authenticated safe: plain data, or encrypted data decrypted with pw.
func safeCertificates(ci contentInfo, pw pbePassword) ([]*x509.Certificate, error) {
	var contents []byte
	switch {
	case ci.ContentType.Equal(oidData):
		if _, err := asn1.Unmarshal(ci.Content.Bytes, &contents); err != nil {
			return nil, errors.New("invalid safe contents")
		}
	case ci.ContentType.Equal(oidEncryptedData):
		var err error
		if contents, err = decryptSafe(ci.Content.Bytes, pw); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("safe of type %v is not supported", ci.ContentType)
	}
	var bags []safeBag
	if rest, err := asn1.Unmarshal(contents, &bags); err != nil || len(rest) != 0 {
		return nil, errors.New("invalid safe contents")
	}
	return bagCertificates(bags)
}

// decryptSafe decrypts an EncryptedData safe (RFC 5652 §8).
func decryptSafe(der []byte, pw pbePassword) ([]byte, error) {
	var ed encryptedData
	if _, err := asn1.Unmarshal(der, &ed); err != nil || !ed.Content.ContentType.Equal(oidData) {
		return nil, errors.New("invalid encrypted safe")
	}
	enc := ed.Content.Encrypted
	if enc.IsCompound || len(enc.Bytes) == 0 {
		return nil, errors.New("encrypted safe is empty or in a constructed encoding")
	}
	plain, err := decryptPBE(ed.Content.Algorithm, enc.Bytes, pw)
	if errors.Is(err, errPBEPadding) {
		return nil, errPFXPassword
	}
	return plain, err
}

// bagCertificates parses the X.509 certificates of certificate bags; a
// key bag ends the reading, other bags are skipped.
func bagCertificates(bags []safeBag) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for _, bag := range bags {
		switch {
		case bag.ID.Equal(oidKeyBag), bag.ID.Equal(oidShroudedKeyBag):
			return nil, errPFXHasKey
		case !bag.ID.Equal(oidCertBag):
			continue
		}
		var cb certBag
		if _, err := asn1.Unmarshal(bag.Value.Bytes, &cb); err != nil || !cb.ID.Equal(oidX509CertType) {
			return nil, errors.New("certificate bag does not hold an x.509 certificate")
		}
		var der []byte
		if _, err := asn1.Unmarshal(cb.Value.Bytes, &der); err != nil {
			return nil, errors.New("invalid certificate bag")
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	return certs, nil
}
