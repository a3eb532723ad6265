package format

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/youmark/pkcs8"
)

// Limits on password-based key derivation parameters read from a file, so
// that a hostile file cannot make Decode spin or allocate for minutes.
const (
	// maxKDFIterations bounds PBKDF2 and PKCS#12 KDF iteration counts.
	// OpenSSL writes 2048, keytool 10000; OWASP's 2023 advice is 600000.
	maxKDFIterations = 1 << 20
	// maxScryptMemory bounds 128*N*r, scrypt's memory use (OpenSSL's own
	// default limit is 32 MiB).
	maxScryptMemory = 32 << 20
	// maxScryptParallel bounds scrypt's p parameter.
	maxScryptParallel = 16
)

// Algorithm identifiers of encrypted PKCS#8 (RFC 8018 A.2, A.4; RFC 7914 §7).
var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
)

// encryptedPrivateKeyInfo is RFC 5958 §3.
type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

// pbes2Params is RFC 8018 A.4.
type pbes2Params struct {
	KDF        pkix.AlgorithmIdentifier
	Encryption pkix.AlgorithmIdentifier
}

// pbkdf2Params is RFC 8018 A.2 (the optional fields are not needed here).
type pbkdf2Params struct {
	Salt       []byte
	Iterations int
}

// scryptParams is RFC 7914 §7.1.
type scryptParams struct {
	Salt     []byte
	Cost     int
	Block    int
	Parallel int
}

// parseDERKey reads a DER private key: encrypted PKCS#8 (RFC 5958 §3),
// PKCS#8 (RFC 5208 §5, RFC 5958 §2), PKCS#1 (RFC 8017 A.1.2) or SEC1
// (RFC 5915 §3). format names the container for errors.
func parseDERKey(format string, der, password []byte) (crypto.Signer, error) {
	var epki encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &epki); err == nil && len(rest) == 0 {
		return decryptPKCS8(format, der, epki, password)
	}
	key, err := parsePlainKey(der)
	if err != nil {
		return nil, malformedf(format, "%v", err)
	}
	return key, nil
}

// parsePlainKey reads an unencrypted PKCS#8, PKCS#1 or SEC1 key.
func parsePlainKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return asSigner(k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("neither a certificate nor a pkcs#8, pkcs#1 or sec1 private key")
}

// asSigner accepts the key types Bundle documents.
func asSigner(k any) (crypto.Signer, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("unsupported private key type %T", k)
}

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo: PBES2 (RFC 8018
// §6.2) with PBKDF2 or scrypt through the pkcs8 library, and the older
// PBES1 (§6.1, DES) and PKCS#12 triple-DES schemes (RFC 7292 Appendix C;
// `openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES`) itself. Cost parameters are
// checked against the limits above before any key derivation.
func decryptPKCS8(format string, der []byte, epki encryptedPrivateKeyInfo, password []byte) (crypto.Signer, error) {
	if !epki.Algorithm.Algorithm.Equal(oidPBES2) {
		return decryptLegacyPKCS8(format, epki, password)
	}
	if err := checkPBES2(epki.Algorithm.Parameters.FullBytes); err != nil {
		return nil, malformedf(format, "encrypted pkcs#8 key: %v", err)
	}
	if len(password) == 0 {
		return nil, passwordNeeded(format)
	}
	k, err := pkcs8.ParsePKCS8PrivateKey(der, password)
	if err != nil {
		return nil, wrongPassword(format)
	}
	key, err := asSigner(k)
	if err != nil {
		return nil, errorf(format, nil, "%v", err)
	}
	return key, nil
}

// decryptLegacyPKCS8 decrypts a PKCS#8 key under a PBES1 or PKCS#12 PBE
// scheme.
func decryptLegacyPKCS8(format string, epki encryptedPrivateKeyInfo, password []byte) (crypto.Signer, error) {
	pw, err := newPBEPassword(password, false)
	if err != nil {
		return nil, errorf(format, nil, "encrypted pkcs#8 key: %v", err)
	}
	plain, err := decryptPBE(epki.Algorithm, epki.Data, pw)
	var unsupported *unsupportedPBEError
	switch {
	case errors.As(err, &unsupported):
		return nil, errorf(format, nil, "encrypted pkcs#8 key: %v", err)
	case err != nil && !errors.Is(err, errPBEPadding):
		return nil, malformedf(format, "encrypted pkcs#8 key: %v", err)
	case err != nil && len(password) == 0:
		return nil, passwordNeeded(format)
	case err != nil:
		return nil, wrongPassword(format)
	}
	k, err := x509.ParsePKCS8PrivateKey(plain)
	if err != nil {
		// Bad padding is caught above only with probability 255/256.
		if len(password) == 0 {
			return nil, passwordNeeded(format)
		}
		return nil, wrongPassword(format)
	}
	key, err := asSigner(k)
	if err != nil {
		return nil, errorf(format, nil, "%v", err)
	}
	return key, nil
}

// checkPBES2 validates PBES2 parameters and the KDF's cost.
func checkPBES2(params []byte) error {
	var p pbes2Params
	if rest, err := asn1.Unmarshal(params, &p); err != nil || len(rest) != 0 {
		return errors.New("invalid pbes2 parameters")
	}
	kdf := p.KDF.Parameters.FullBytes
	switch {
	case p.KDF.Algorithm.Equal(oidPBKDF2):
		var k pbkdf2Params
		if _, err := asn1.Unmarshal(kdf, &k); err != nil {
			return errors.New("invalid pbkdf2 parameters")
		}
		if k.Iterations < 1 || k.Iterations > maxKDFIterations {
			return fmt.Errorf("pbkdf2 iteration count %d outside 1..%d", k.Iterations, maxKDFIterations)
		}
	case p.KDF.Algorithm.Equal(oidScrypt):
		var s scryptParams
		if _, err := asn1.Unmarshal(kdf, &s); err != nil {
			return errors.New("invalid scrypt parameters")
		}
		if s.Cost < 2 || s.Block < 1 || s.Parallel < 1 || s.Parallel > maxScryptParallel ||
			s.Cost > maxScryptMemory/128/s.Block {
			return fmt.Errorf("scrypt parameters N=%d r=%d p=%d exceed the limits", s.Cost, s.Block, s.Parallel)
		}
	default:
		return fmt.Errorf("unsupported key derivation function %v", p.KDF.Algorithm)
	}
	return nil
}

// keyMatches reports whether key's public half is cert's public key.
func keyMatches(key crypto.Signer, cert *x509.Certificate) bool {
	if key == nil || cert == nil {
		return false
	}
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(key.Public())
}
