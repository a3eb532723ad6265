package format

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Decode detects the format of data and reads it. password may be nil; it
// is used for PKCS#12, JKS (store and key entries) and encrypted private
// keys, and ignored otherwise.
//
// The result is ordered as described on Bundle. Trust stores (a JKS with
// only trusted-certificate entries, a Java PKCS#12 trust store) put every
// certificate in Others and leave Chain empty: their entries are anchors,
// not a chain. A file holding only a key yields a Bundle with Key set and
// an empty Chain.
//
// Errors wrap ErrTooLarge, ErrUnknownFormat, ErrPasswordNeeded,
// ErrWrongPassword or ErrMalformed; most are an *Error naming the format.
// A panic inside a third-party parser is recovered and reported as
// ErrMalformed.
func Decode(data, password []byte) (b *Bundle, err error) {
	if len(data) > MaxInputSize {
		return nil, ErrTooLarge
	}
	defer recoverMalformed(&b, &err)
	switch detect(data) {
	case KindJKS:
		return decodeJKS(data, password)
	case KindPEM:
		return decodePEM(data, password)
	case KindPKCS7:
		return decodePKCS7(data)
	case KindPKCS12:
		return decodePKCS12(data, password)
	case KindDER:
		return decodeDER(data, password)
	}
	return nil, ErrUnknownFormat
}

// recoverMalformed is deferred by every decoder: a panic in a parser
// becomes ErrMalformed and no partial bundle escapes.
func recoverMalformed(b **Bundle, err *error) {
	if r := recover(); r != nil {
		*b = nil
		*err = ErrMalformed
	}
}

// Magic numbers of Java key stores.
const (
	jksMagic   = 0xFEEDFEED
	jceksMagic = 0xCECECECE
)

// detect names the container data looks like, or "" when none fits.
func detect(data []byte) Kind {
	if len(data) >= 4 {
		switch binary.BigEndian.Uint32(data) {
		case jksMagic, jceksMagic:
			return KindJKS
		}
	}
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		return KindPEM
	}
	if len(data) >= 2 && data[0] == 0x30 {
		return sniffDER(data)
	}
	return ""
}

// sniffDER tells PKCS#7, PKCS#12 and plain DER objects apart by the first
// element inside the outer SEQUENCE:
//   - an OBJECT IDENTIFIER: a ContentInfo, PKCS#7 (RFC 5652 §3);
//   - INTEGER 3 followed by a SEQUENCE: a PFX (RFC 7292 §4);
//   - another INTEGER: a private key (RFC 5208 §5, RFC 8017 A.1.2,
//     RFC 5915 §3);
//   - a SEQUENCE: a certificate or an EncryptedPrivateKeyInfo.
//
// An indefinite BER length (0x30 0x80) is only emitted by PKCS#7 tools.
func sniffDER(data []byte) Kind {
	if data[1] == 0x80 {
		return KindPKCS7
	}
	in := cryptobyte.String(data)
	var outer cryptobyte.String
	if !in.ReadASN1(&outer, cbasn1.SEQUENCE) {
		return ""
	}
	switch {
	case outer.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER):
		return KindPKCS7
	case outer.PeekASN1Tag(cbasn1.INTEGER):
		var v int64
		if outer.ReadASN1Integer(&v) && v == 3 && outer.PeekASN1Tag(cbasn1.SEQUENCE) {
			return KindPKCS12
		}
		return KindDER
	case outer.PeekASN1Tag(cbasn1.SEQUENCE):
		return KindDER
	}
	return ""
}
