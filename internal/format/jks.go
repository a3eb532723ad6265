package format

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"time"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
)

const jksFormat = string(KindJKS)

// decodeJKS reads a Java KeyStore. The bytes are validated by checkJKS
// and the store digest by jksDigestOK before keystore-go sees them. Key
// entries are decrypted with the store password (keytool's default). The
// first key entry in alias order gives Key and Alias; certificates of
// other entries go through the usual ordering, so trusted CA entries
// join the chain when they issue it. A store without key entries is a
// trust store: all its certificates go to Others.
func decodeJKS(data, password []byte) (b *Bundle, err error) {
	defer recoverMalformed(&b, &err)
	if err := checkJKS(data); err != nil {
		return nil, malformedf(jksFormat, "%v", err)
	}
	units, latin1, err := jksPassword(password)
	if err != nil {
		return nil, errorf(jksFormat, nil, "%v", err)
	}
	if !jksDigestOK(data, units) {
		if len(password) == 0 {
			return nil, passwordNeeded(jksFormat)
		}
		return nil, wrongPassword(jksFormat)
	}
	ks := keystore.New(keystore.WithOrderedAliases())
	if err := ks.Load(bytes.NewReader(data), latin1); err != nil {
		return nil, malformedf(jksFormat, "%v", err)
	}
	return jksBundle(ks, latin1)
}

// jksBundle collects the entries of a loaded store.
func jksBundle(ks keystore.KeyStore, password []byte) (*Bundle, error) {
	var certs []*x509.Certificate
	var key crypto.Signer
	var alias string
	for _, a := range ks.Aliases() {
		var raw []keystore.Certificate
		if ks.IsPrivateKeyEntry(a) {
			e, err := ks.GetPrivateKeyEntry(a, password)
			if err != nil {
				return nil, errorf(jksFormat, ErrWrongPassword, "key entry %q: key password differs from the store password", a)
			}
			raw = e.CertificateChain
			if key == nil {
				if key, err = parsePlainKey(e.PrivateKey); err != nil {
					return nil, malformedf(jksFormat, "key entry %q: %v", a, err)
				}
				alias = a
			}
		} else if e, err := ks.GetTrustedCertificateEntry(a); err == nil {
			raw = []keystore.Certificate{e.Certificate}
		}
		parsed, err := parseJKSCerts(a, raw)
		if err != nil {
			return nil, err
		}
		certs = append(certs, parsed...)
	}
	b := buildBundle(KindJKS, certs, key, key == nil)
	b.Alias = alias
	return b, nil
}

// parseJKSCerts parses the DER certificates of one entry.
func parseJKSCerts(alias string, raw []keystore.Certificate) ([]*x509.Certificate, error) {
	out := make([]*x509.Certificate, 0, len(raw))
	for _, r := range raw {
		c, err := x509.ParseCertificate(r.Content)
		if err != nil {
			return nil, malformedf(jksFormat, "entry %q: %s", alias, libError(err, "x509: "))
		}
		out = append(out, c)
	}
	return out, nil
}

// encodeJKS writes a JKS: one PrivateKeyEntry holding the key and the
// chain when b has a key (Others are left out), otherwise one
// TrustedCertificateEntry per certificate. The password protects the
// store and the key entry; it is required and limited to Latin-1.
func encodeJKS(b *Bundle, opts EncodeOptions) ([]byte, error) {
	name := string(TargetJKS)
	if len(opts.Password) == 0 {
		return nil, errorf(name, ErrPasswordNeeded, "a password is required")
	}
	_, password, err := jksPassword(opts.Password)
	if err != nil {
		return nil, errorf(name, nil, "%v", err)
	}
	created := opts.Time
	if created.IsZero() {
		created = time.Now()
	}
	ks := keystore.New(keystore.WithOrderedAliases())
	if err := fillJKS(ks, b, opts.Alias, created, password); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := ks.Store(&out, password); err != nil {
		return nil, errorf(name, nil, "%v", err)
	}
	return out.Bytes(), nil
}

// fillJKS adds b's entries to ks.
func fillJKS(ks keystore.KeyStore, b *Bundle, alias string, created time.Time, password []byte) error {
	name := string(TargetJKS)
	if b.Key == nil {
		certs := allCerts(b)
		if len(certs) == 0 {
			return errorf(name, ErrNothingToEncode, "no certificate")
		}
		for i, a := range entryAliases(alias, len(certs)) {
			e := keystore.TrustedCertificateEntry{CreationTime: created, Certificate: jksCert(certs[i])}
			if err := ks.SetTrustedCertificateEntry(a, e); err != nil {
				return errorf(name, nil, "%v", err)
			}
		}
		return nil
	}
	if _, err := keyedLeaf(b, name); err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(b.Key)
	if err != nil {
		return errorf(name, nil, "%s", libError(err, "x509: "))
	}
	e := keystore.PrivateKeyEntry{CreationTime: created, PrivateKey: der}
	for _, c := range b.Chain {
		e.CertificateChain = append(e.CertificateChain, jksCert(c))
	}
	if err := ks.SetPrivateKeyEntry(entryAliases(alias, 1)[0], e, password); err != nil {
		return errorf(name, nil, "%v", err)
	}
	return nil
}

// jksCert wraps a certificate for keystore-go.
func jksCert(c *x509.Certificate) keystore.Certificate {
	return keystore.Certificate{Type: "X.509", Content: c.Raw}
}
