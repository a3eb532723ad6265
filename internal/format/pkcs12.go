package format

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"unicode/utf16"

	"software.sslmate.com/src/go-pkcs12"
)

const pkcs12Format = string(KindPKCS12)

// decodePKCS12 reads a PFX (RFC 7292): a key with its certificates
// (OpenSSL, keytool, Windows; PBES2/AES or legacy RC2/3DES), or a Java
// trust store of certificates only. An empty password also opens files
// made with no password or with an empty one.
func decodePKCS12(data, password []byte) (b *Bundle, err error) {
	defer recoverMalformed(&b, &err)
	s := berScanner{kdf: true}
	if err := s.scan(data); err != nil {
		return nil, malformedf(pkcs12Format, "%v", err)
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, string(password))
	if err == nil {
		signer, err := asSigner(key)
		if err != nil {
			return nil, errorf(pkcs12Format, nil, "%v", err)
		}
		b := buildBundle(KindPKCS12, append([]*x509.Certificate{leaf}, cas...), signer, false)
		b.Alias = pkcs12KeyName(data)
		return b, nil
	}
	if perr := pkcs12PasswordError(err, password); perr != nil {
		return nil, perr
	}
	certs, terr := pkcs12.DecodeTrustStore(data, string(password))
	if terr == nil {
		return buildBundle(KindPKCS12, certs, nil, true), nil
	}
	if perr := pkcs12PasswordError(terr, password); perr != nil {
		return nil, perr
	}
	return decodePKCS12Certs(data, password, fmt.Sprintf("%s (as a trust store: %s)",
		libError(err, "pkcs12: "), libError(terr, "pkcs12: ")))
}

// decodePKCS12Certs reads a PFX of certificates without a key that is not
// a Java trust store (`openssl pkcs12 -export -nokeys`). libErr is what
// the library said of the file, reported when it is not such a PFX
// either.
func decodePKCS12Certs(data, password []byte, libErr string) (*Bundle, error) {
	certs, err := readPKCS12Certs(data, password)
	var unsupported *unsupportedPBEError
	switch {
	case err == nil:
		return buildBundle(KindPKCS12, certs, nil, false), nil
	case errors.Is(err, errPFXPassword) && len(password) == 0:
		return nil, passwordNeeded(pkcs12Format)
	case errors.Is(err, errPFXPassword):
		return nil, wrongPassword(pkcs12Format)
	case errors.As(err, &unsupported):
		return nil, errorf(pkcs12Format, nil, "certificates: %v", err)
	}
	return nil, malformedf(pkcs12Format, "%s", libErr)
}

// pkcs12PasswordError maps a failed MAC or decryption to the password
// errors, or returns nil for other errors.
func pkcs12PasswordError(err error, password []byte) error {
	if !errors.Is(err, pkcs12.ErrIncorrectPassword) && !errors.Is(err, pkcs12.ErrDecryption) {
		return nil
	}
	if len(password) == 0 {
		return passwordNeeded(pkcs12Format)
	}
	return wrongPassword(pkcs12Format)
}

// ASN.1 shapes of RFC 7292 §4 needed to find the key's friendly name,
// which sits outside the encrypted parts in OpenSSL and keytool files.
type (
	pfxPDU struct {
		Version  int
		AuthSafe contentInfo
		MacData  asn1.RawValue `asn1:"optional"`
	}
	contentInfo struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
	}
	safeBag struct {
		ID         asn1.ObjectIdentifier
		Value      asn1.RawValue  `asn1:"tag:0,explicit"`
		Attributes []bagAttribute `asn1:"set,optional"`
	}
	bagAttribute struct {
		ID     asn1.ObjectIdentifier
		Values asn1.RawValue `asn1:"set"`
	}
)

// Object identifiers of RFC 7292 §4.2 and RFC 2985 §5.5.1.
var (
	oidData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidKeyBag         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKeyBag = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidFriendlyName   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	errNoFriendlyName = errors.New("no friendly name")
	errNotUnencrypted = errors.New("not an unencrypted safe")
)

// pkcs12KeyName returns the friendly name of the key bag, or "" when
// there is none or it sits in an encrypted safe.
func pkcs12KeyName(data []byte) string {
	var pfx pfxPDU
	var safe []byte
	if _, err := asn1.Unmarshal(data, &pfx); err != nil {
		return ""
	}
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &safe); err != nil {
		return ""
	}
	var infos []contentInfo
	if _, err := asn1.Unmarshal(safe, &infos); err != nil {
		return ""
	}
	for _, ci := range infos {
		if name, err := keyBagName(ci); err == nil {
			return name
		}
	}
	return ""
}

// keyBagName looks for a key bag with a friendly name in an unencrypted
// SafeContents.
func keyBagName(ci contentInfo) (string, error) {
	var raw []byte
	var bags []safeBag
	if !ci.ContentType.Equal(oidData) {
		return "", errNotUnencrypted
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &raw); err != nil {
		return "", err
	}
	if _, err := asn1.Unmarshal(raw, &bags); err != nil {
		return "", err
	}
	for _, bag := range bags {
		if bag.ID.Equal(oidKeyBag) || bag.ID.Equal(oidShroudedKeyBag) {
			return friendlyName(bag.Attributes)
		}
	}
	return "", errNoFriendlyName
}

// friendlyName decodes the BMPString friendlyName attribute.
func friendlyName(attrs []bagAttribute) (string, error) {
	for _, a := range attrs {
		var bmp asn1.RawValue
		if !a.ID.Equal(oidFriendlyName) {
			continue
		}
		if _, err := asn1.Unmarshal(a.Values.Bytes, &bmp); err != nil || bmp.Tag != 30 || len(bmp.Bytes)%2 != 0 {
			return "", errNoFriendlyName
		}
		u := make([]uint16, len(bmp.Bytes)/2)
		for i := range u {
			u[i] = uint16(bmp.Bytes[2*i])<<8 | uint16(bmp.Bytes[2*i+1])
		}
		return string(utf16.Decode(u)), nil
	}
	return "", errNoFriendlyName
}

// encodePFX writes b as a PFX with enc: the key, its leaf and the rest of
// the chain; or, when b has no key, a Java trust store (certificates
// marked trusted, RFC 7292 §4.2.3) of every certificate, named after
// opts.Alias. A password is required.
func encodePFX(b *Bundle, t Target, opts EncodeOptions, enc *pkcs12.Encoder) ([]byte, error) {
	name := string(t)
	if len(opts.Password) == 0 {
		return nil, errorf(name, ErrPasswordNeeded, "a password is required")
	}
	password := string(opts.Password)
	if b.Key == nil {
		certs := allCerts(b)
		if len(certs) == 0 {
			return nil, errorf(name, ErrNothingToEncode, "no certificate")
		}
		aliases := entryAliases(opts.Alias, len(certs))
		entries := make([]pkcs12.TrustStoreEntry, len(certs))
		for i, c := range certs {
			entries[i] = pkcs12.TrustStoreEntry{Cert: c, FriendlyName: aliases[i]}
		}
		return libResult(name)(enc.EncodeTrustStoreEntries(entries, password))
	}
	leaf, err := keyedLeaf(b, name)
	if err != nil {
		return nil, err
	}
	return libResult(name)(enc.Encode(b.Key, leaf, b.Chain[1:], password))
}
