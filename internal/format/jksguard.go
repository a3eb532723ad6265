package format

import (
	"crypto/sha1"
	"crypto/subtle"
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
)

// JKS layout (Sun's JavaKeyStore format, versions 1 and 2; all integers
// big-endian, "UTF" is Java's modified UTF-8 with a uint16 length):
//
//	magic u32 = 0xFEEDFEED, version u32 (1 or 2), count u32
//	count entries:
//	  tag u32 (1 = private key, 2 = trusted certificate), alias UTF,
//	  creation time u64 (ms since the epoch)
//	  tag 1: key length u32, encrypted PKCS#8 key, chain count u32,
//	         chain count certificates
//	  tag 2: one certificate
//	certificate: type UTF (version 2 only), length u32, DER bytes
//	digest: SHA-1(password as UTF-16BE || "Mighty Aphrodite" || all of the above)
const (
	jksKeyTag        = 1
	jksTrustedTag    = 2
	jksMinKeyLen     = 40 // salt and check digest of Sun's key protector, 20 bytes each
	jksMinCertLen    = 32 // far below any real certificate
	jksWhitener      = "Mighty Aphrodite"
	maxJKSChainCount = 64
)

// checkJKS walks the JKS byte layout and checks every count and length
// against the bytes that remain, before keystore-go (which allocates what
// the file states, unchecked) is given the data. A valid walk ends exactly
// at a 20-byte digest.
func checkJKS(data []byte) error {
	s := cryptobyte.String(data)
	var magic, version, count uint32
	if !s.ReadUint32(&magic) || !s.ReadUint32(&version) || !s.ReadUint32(&count) {
		return errors.New("truncated header")
	}
	if magic == jceksMagic {
		return errors.New("jceks key stores are not supported")
	}
	if magic != jksMagic || (version != 1 && version != 2) {
		return fmt.Errorf("bad magic or version %d", version)
	}
	for i := uint32(0); i < count; i++ {
		if len(s) <= sha1.Size {
			return fmt.Errorf("%d entries announced, data ends after %d", count, i)
		}
		if err := checkJKSEntry(&s, version); err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
	}
	if len(s) != sha1.Size {
		return fmt.Errorf("%d bytes after the entries, want a %d-byte digest", len(s), sha1.Size)
	}
	return nil
}

// checkJKSEntry checks one entry and advances s past it.
func checkJKSEntry(s *cryptobyte.String, version uint32) error {
	var tag uint32
	var alias, key cryptobyte.String
	if !s.ReadUint32(&tag) || !s.ReadUint16LengthPrefixed(&alias) || !s.Skip(8) {
		return errors.New("truncated entry header")
	}
	switch tag {
	case jksTrustedTag:
		return checkJKSCert(s, version)
	case jksKeyTag:
		var n uint32
		if !readUint32Prefixed(s, &key) || len(key) < jksMinKeyLen {
			return errors.New("key length exceeds the data or is too short")
		}
		if !s.ReadUint32(&n) || n > maxJKSChainCount {
			return errors.New("bad certificate chain count")
		}
		for j := uint32(0); j < n; j++ {
			if err := checkJKSCert(s, version); err != nil {
				return fmt.Errorf("chain certificate %d: %w", j, err)
			}
		}
		return nil
	}
	return fmt.Errorf("unknown entry tag %d", tag)
}

// checkJKSCert checks one certificate record and advances s past it.
func checkJKSCert(s *cryptobyte.String, version uint32) error {
	var typ, der cryptobyte.String
	if version == 2 && !s.ReadUint16LengthPrefixed(&typ) {
		return errors.New("certificate type exceeds the data")
	}
	if !readUint32Prefixed(s, &der) || len(der) < jksMinCertLen {
		return errors.New("certificate length exceeds the data or is too short")
	}
	return nil
}

// readUint32Prefixed reads a uint32 length and that many bytes, failing
// (without allocating) when fewer bytes remain.
func readUint32Prefixed(s *cryptobyte.String, out *cryptobyte.String) bool {
	var n uint32
	if !s.ReadUint32(&n) || uint64(n) > uint64(len(*s)) {
		return false
	}
	return s.ReadBytes((*[]byte)(out), int(n))
}

// jksDigestOK verifies the store digest (last 20 bytes) for password.
func jksDigestOK(data []byte, password []uint16) bool {
	body, sum := data[:len(data)-sha1.Size], data[len(data)-sha1.Size:]
	h := sha1.New()
	for _, c := range password {
		h.Write([]byte{byte(c >> 8), byte(c)})
	}
	h.Write([]byte(jksWhitener))
	h.Write(body)
	return subtle.ConstantTimeCompare(h.Sum(nil), sum) == 1
}

// jksPassword converts a UTF-8 password to the UTF-16 code units Java
// hashes, and to the Latin-1 bytes keystore-go needs to produce the same
// units (it widens each byte to one unit). Characters beyond Latin-1
// cannot be passed to keystore-go and are refused; bytes that are not
// UTF-8 are taken as Latin-1.
func jksPassword(password []byte) (units []uint16, latin1 []byte, err error) {
	if !utf8.Valid(password) {
		for _, c := range password {
			units = append(units, uint16(c))
		}
		return units, password, nil
	}
	for _, r := range string(password) {
		if r > 0xff {
			return nil, nil, errors.New("passwords with characters beyond latin-1 are not supported")
		}
		units = append(units, uint16(r))
		latin1 = append(latin1, byte(r))
	}
	return units, latin1, nil
}
