package format

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"
)

// Password-based decryption for what the libraries leave out: encrypted
// PKCS#8 keys under PBES1 (RFC 8018 §6.1) and the PKCS#12 PBE schemes
// (RFC 7292 Appendix B and C), as `openssl pkcs8 -topk8 -v1 ...` writes
// them, and the encrypted safes of certificate-only PKCS#12 files
// (PBES2 or PKCS#12 PBE). Every cost parameter is checked against the
// limits of keys.go before any derivation.

// Algorithm identifiers (RFC 8018 A.3, A.4, B.1, B.2; RFC 7292 Appendix C;
// RFC 3565; RFC 4231 via RFC 8018 B.1.2).
var (
	oidPBEWithMD5AndDES       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 3}
	oidPBEWithSHA1AndDES      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 10}
	oidPBEWithMD5AndRC2       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 6}
	oidPBEWithSHA1AndRC2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 11}
	oidPBEWithSHAAnd3KeyTDES  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBEWithSHAAnd2KeyTDES  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 4}
	oidPBEWithSHAAnd128RC4    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 1}
	oidPBEWithSHAAnd40RC4     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 2}
	oidPBEWithSHAAnd128RC2CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 5}
	oidPBEWithSHAAnd40RC2CBC  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 6}
	oidHMACWithSHA1           = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA224         = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACWithSHA256         = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACWithSHA384         = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACWithSHA512         = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC             = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

// Errors of decryptPBE. A wrong password mostly shows as bad padding.
var (
	errPBEPadding = errors.New("decryption failed")
	errPBEParams  = errors.New("invalid encryption parameters")
)

// unsupportedPBEError names an encryption scheme certkeeper does not read.
type unsupportedPBEError struct{ alg asn1.ObjectIdentifier }

func (e *unsupportedPBEError) Error() string {
	name := e.alg.String()
	switch {
	case e.alg.Equal(oidPBEWithSHAAnd40RC2CBC):
		name = "pbeWithSHAAnd40BitRC2-CBC"
	case e.alg.Equal(oidPBEWithSHAAnd128RC2CBC):
		name = "pbeWithSHAAnd128BitRC2-CBC"
	case e.alg.Equal(oidPBEWithMD5AndRC2), e.alg.Equal(oidPBEWithSHA1AndRC2):
		name = "PBES1 with RC2"
	case e.alg.Equal(oidPBEWithSHAAnd40RC4), e.alg.Equal(oidPBEWithSHAAnd128RC4):
		name = "RC4"
	}
	return fmt.Sprintf("encryption %s is not supported (re-encrypt it with AES, e.g. openssl's -certpbe AES-256-CBC or pkcs8 -v2 aes256)", name)
}

// pbeParams is RFC 8018 A.3 (PBES1) and RFC 7292 Appendix C: a salt and
// an iteration count.
type pbeParams struct {
	Salt       []byte
	Iterations int
}

// pbkdf2AllParams is RFC 8018 A.2 with its optional fields.
type pbkdf2AllParams struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// pbePassword is a password in the two encodings the schemes use: UTF-8
// (PBES1, PBES2) and a NUL-terminated BMPString (the PKCS#12 KDF).
type pbePassword struct {
	utf8, bmp []byte
}

// newPBEPassword encodes password both ways. An empty password has the
// two BMP forms of RFC 7292 B.1 that tools disagree on; emptyNil picks
// the absent one instead of the lone terminator.
func newPBEPassword(password []byte, emptyNil bool) (pbePassword, error) {
	p := pbePassword{utf8: password}
	if len(password) == 0 && emptyNil {
		return p, nil
	}
	var err error
	p.bmp, err = bmpString(string(password))
	return p, err
}

// bmpString encodes s as UTF-16 big-endian with two trailing zero bytes
// (RFC 7292 B.1). Characters outside the BMP are refused.
func bmpString(s string) ([]byte, error) {
	out := make([]byte, 0, 2*len(s)+2)
	for _, r := range s {
		if r > 0xffff || utf16.IsSurrogate(r) {
			return nil, errors.New("password has a character outside the basic multilingual plane")
		}
		out = append(out, byte(r>>8), byte(r))
	}
	return append(out, 0, 0), nil
}

// decryptPBE decrypts data encrypted under alg with pw and removes the
// padding.
func decryptPBE(alg pkix.AlgorithmIdentifier, data []byte, pw pbePassword) ([]byte, error) {
	params := alg.Parameters.FullBytes
	var block cipher.Block
	var iv []byte
	var err error
	switch {
	case alg.Algorithm.Equal(oidPBES2):
		block, iv, err = pbes2Cipher(params, pw.utf8)
	case alg.Algorithm.Equal(oidPBEWithSHAAnd3KeyTDES), alg.Algorithm.Equal(oidPBEWithSHAAnd2KeyTDES):
		block, iv, err = pkcs12TDESCipher(params, pw.bmp, alg.Algorithm.Equal(oidPBEWithSHAAnd2KeyTDES))
	case alg.Algorithm.Equal(oidPBEWithMD5AndDES), alg.Algorithm.Equal(oidPBEWithSHA1AndDES):
		h := md5.New
		if alg.Algorithm.Equal(oidPBEWithSHA1AndDES) {
			h = sha1.New
		}
		block, iv, err = pbes1Cipher(params, pw.utf8, h)
	default:
		return nil, &unsupportedPBEError{alg: alg.Algorithm}
	}
	if err != nil {
		return nil, err
	}
	return cbcDecrypt(block, iv, data)
}

// readPBEParams reads a salt and iteration count and checks the count.
func readPBEParams(der []byte) (pbeParams, error) {
	var p pbeParams
	if rest, err := asn1.Unmarshal(der, &p); err != nil || len(rest) != 0 {
		return p, errPBEParams
	}
	if p.Iterations < 1 || p.Iterations > maxKDFIterations {
		return p, fmt.Errorf("iteration count %d outside 1..%d", p.Iterations, maxKDFIterations)
	}
	return p, nil
}

// pbes1Cipher derives the DES key and IV of PBES1 with PBKDF1 (RFC 8018
// §5.1, §6.1): T = H^c(P || S), key = T[0:8], IV = T[8:16].
func pbes1Cipher(der, password []byte, h func() hash.Hash) (cipher.Block, []byte, error) {
	p, err := readPBEParams(der)
	if err != nil {
		return nil, nil, err
	}
	if len(p.Salt) != 8 {
		return nil, nil, errPBEParams
	}
	d := h()
	d.Write(password)
	d.Write(p.Salt)
	t := d.Sum(nil)
	for i := 1; i < p.Iterations; i++ {
		d.Reset()
		d.Write(t)
		t = d.Sum(t[:0])
	}
	block, err := des.NewCipher(t[:8])
	return block, t[8:16], err
}

// pkcs12TDESCipher derives the triple-DES key and IV of the PKCS#12 PBE
// schemes with SHA-1 (RFC 7292 Appendix B and C). A two-key scheme uses
// K1, K2, K1.
func pkcs12TDESCipher(der, bmp []byte, twoKey bool) (cipher.Block, []byte, error) {
	p, err := readPBEParams(der)
	if err != nil {
		return nil, nil, err
	}
	n := 24
	if twoKey {
		n = 16
	}
	key := pkcs12KDF(sha1.New, 64, bmp, p.Salt, 1, p.Iterations, n)
	if twoKey {
		key = append(key, key[:8]...)
	}
	iv := pkcs12KDF(sha1.New, 64, bmp, p.Salt, 2, p.Iterations, des.BlockSize)
	block, err := des.NewTripleDESCipher(key)
	return block, iv, err
}

// pbes2Cipher derives the key of PBES2 with PBKDF2 (RFC 8018 §6.2) for
// AES-CBC or DES-EDE3-CBC, the schemes OpenSSL and Java write.
func pbes2Cipher(der, password []byte) (cipher.Block, []byte, error) {
	if err := checkPBES2(der); err != nil {
		return nil, nil, err
	}
	var p pbes2Params
	if _, err := asn1.Unmarshal(der, &p); err != nil {
		return nil, nil, errPBEParams
	}
	if !p.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, nil, fmt.Errorf("key derivation %v is not supported here", p.KDF.Algorithm)
	}
	var k pbkdf2AllParams
	if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &k); err != nil {
		return nil, nil, errPBEParams
	}
	prf, err := pbkdf2PRF(k.PRF.Algorithm)
	if err != nil {
		return nil, nil, err
	}
	keyLen, newCipher, err := pbes2Scheme(p.Encryption.Algorithm)
	if err != nil {
		return nil, nil, err
	}
	if k.KeyLength != 0 && k.KeyLength != keyLen {
		return nil, nil, errPBEParams
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(p.Encryption.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 {
		return nil, nil, errPBEParams
	}
	key, err := pbkdf2.Key(prf, string(password), k.Salt, k.Iterations, keyLen)
	if err != nil {
		return nil, nil, errPBEParams
	}
	block, err := newCipher(key)
	return block, iv, err
}

// pbkdf2PRF returns the hash of a PBKDF2 pseudo-random function; an
// absent one is HMAC-SHA-1 (RFC 8018 A.2).
func pbkdf2PRF(oid asn1.ObjectIdentifier) (func() hash.Hash, error) {
	switch {
	case len(oid) == 0, oid.Equal(oidHMACWithSHA1):
		return sha1.New, nil
	case oid.Equal(oidHMACWithSHA224):
		return sha256.New224, nil
	case oid.Equal(oidHMACWithSHA256):
		return sha256.New, nil
	case oid.Equal(oidHMACWithSHA384):
		return sha512.New384, nil
	case oid.Equal(oidHMACWithSHA512):
		return sha512.New, nil
	}
	return nil, fmt.Errorf("pbkdf2 function %v is not supported", oid)
}

// pbes2Scheme returns the key length and block cipher of a PBES2
// encryption scheme.
func pbes2Scheme(oid asn1.ObjectIdentifier) (int, func([]byte) (cipher.Block, error), error) {
	switch {
	case oid.Equal(oidAES128CBC):
		return 16, aes.NewCipher, nil
	case oid.Equal(oidAES192CBC):
		return 24, aes.NewCipher, nil
	case oid.Equal(oidAES256CBC):
		return 32, aes.NewCipher, nil
	case oid.Equal(oidDESEDE3CBC):
		return 24, des.NewTripleDESCipher, nil
	}
	return 0, nil, fmt.Errorf("encryption scheme %v is not supported", oid)
}

// cbcDecrypt decrypts data in CBC mode and removes PKCS#7 padding (RFC
// 8018 §6.1.1 step 4); bad padding means a wrong key.
func cbcDecrypt(block cipher.Block, iv, data []byte) ([]byte, error) {
	bs := block.BlockSize()
	if len(iv) != bs || len(data) == 0 || len(data)%bs != 0 {
		return nil, errPBEParams
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, data)
	pad := int(out[len(out)-1])
	if pad < 1 || pad > bs {
		return nil, errPBEPadding
	}
	want := make([]byte, pad)
	for i := range want {
		want[i] = byte(pad)
	}
	if subtle.ConstantTimeCompare(out[len(out)-pad:], want) != 1 {
		return nil, errPBEPadding
	}
	return out[:len(out)-pad], nil
}

// pkcs12KDF is the key derivation of RFC 7292 Appendix B.2: n bytes for
// purpose id (1 key, 2 IV, 3 MAC key) from a BMP password and a salt, with
// hash h of block size v. The caller bounds iterations.
func pkcs12KDF(h func() hash.Hash, v int, bmp, salt []byte, id byte, iterations, n int) []byte {
	d := make([]byte, v)
	for i := range d {
		d[i] = id
	}
	in := append(fillBlocks(salt, v), fillBlocks(bmp, v)...)
	var out []byte
	a := h()
	for len(out) < n {
		a.Reset()
		a.Write(d)
		a.Write(in)
		sum := a.Sum(nil)
		for i := 1; i < iterations; i++ {
			a.Reset()
			a.Write(sum)
			sum = a.Sum(sum[:0])
		}
		out = append(out, sum...)
		if len(out) < n {
			addToBlocks(in, fillBlocks(sum, v))
		}
	}
	return out[:n]
}

// fillBlocks repeats s to the next multiple of v bytes (empty for empty s).
func fillBlocks(s []byte, v int) []byte {
	if len(s) == 0 {
		return nil
	}
	out := make([]byte, v*((len(s)+v-1)/v))
	for i := range out {
		out[i] = s[i%len(s)]
	}
	return out
}

// addToBlocks sets each v-byte block I_j of in to (I_j + b + 1) mod 2^(8v),
// big-endian, where v is len(b) (RFC 7292 B.2 step 6C).
func addToBlocks(in, b []byte) {
	v := len(b)
	for j := 0; j+v <= len(in); j += v {
		carry := 1
		for k := v - 1; k >= 0; k-- {
			s := int(in[j+k]) + int(b[k]) + carry
			in[j+k], carry = byte(s), s>>8
		}
	}
}

// pkcs12MAC computes the HMAC of a PFX's authenticated safe with the key
// the PKCS#12 KDF derives (RFC 7292 §5, B.4).
func pkcs12MAC(h func() hash.Hash, bmp, salt []byte, iterations int, data []byte) []byte {
	v := 64
	if h().Size() > 32 {
		v = 128 // SHA-384 and SHA-512 work on 128-byte blocks
	}
	key := pkcs12KDF(h, v, bmp, salt, 3, iterations, h().Size())
	m := hmac.New(h, key)
	m.Write(data)
	return m.Sum(nil)
}
