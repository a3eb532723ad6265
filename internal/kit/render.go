package kit

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"

	"github.com/certkeeper/certkeeper/internal/format"
)

// Material is what one side of a kit is made of.
type Material struct {
	// Leaf is the side's certificate.
	Leaf *x509.Certificate
	// Chain is the issuing CA's chain: the issuing CA first, the root last.
	Chain []*x509.Certificate
	// Key is the leaf's private key.
	Key crypto.Signer
	// Password protects key-store contents (pkcs12, jks); rendering one
	// without a password is refused.
	Password string
}

// Output is one rendered file.
type Output struct {
	// Path is relative to the side's directory, with forward slashes.
	Path    string
	Content Content
	Data    []byte
	Mode    fs.FileMode
}

// Render produces the files of layout l from m.
func Render(l Layout, m Material) ([]Output, error) {
	if m.Leaf == nil || m.Key == nil || len(m.Chain) == 0 {
		return nil, errors.New("kit: render: a certificate, its key and its CA chain are needed")
	}
	out := make([]Output, 0, len(l.Files))
	for _, f := range l.Files {
		data, err := renderFile(f, m)
		if err != nil {
			return nil, fmt.Errorf("kit: layout %s: %s: %w", l.Name, f.Path, err)
		}
		out = append(out, Output{Path: f.Path, Content: f.Content, Data: data, Mode: f.mode()})
	}
	return out, nil
}

func renderFile(f File, m Material) ([]byte, error) {
	root := m.Chain[len(m.Chain)-1]
	der := f.encoding() == EncodingDER
	switch f.Content {
	case ContentCACert, ContentChain:
		return pemCerts(m.Chain), nil
	case ContentCACertDER:
		return certBytes(root, der), nil
	case ContentCert:
		return certBytes(m.Leaf, der), nil
	case ContentFullchain:
		return pemCerts(fullchain(m)), nil
	case ContentKey:
		return keyBytes(m, der)
	case ContentCombined:
		return encode(m, format.TargetCombinedPEM)
	case ContentPKCS12:
		return encodeKeyStore(m, format.TargetPFX)
	case ContentJKS:
		return encodeKeyStore(m, format.TargetJKS)
	}
	return nil, fmt.Errorf("unknown content %q", f.Content)
}

// fullchain is the leaf and the intermediates, without a self-signed root.
func fullchain(m Material) []*x509.Certificate {
	certs := append([]*x509.Certificate{m.Leaf}, m.Chain...)
	if last := certs[len(certs)-1]; len(certs) > 1 && isSelfSigned(last) {
		certs = certs[:len(certs)-1]
	}
	return certs
}

// isSelfSigned reports whether c names itself as its issuer. The
// signature is not checked here: chain verification does that.
func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer)
}

func certBytes(c *x509.Certificate, der bool) []byte {
	if der {
		return bytes.Clone(c.Raw)
	}
	return pemCerts([]*x509.Certificate{c})
}

func pemCerts(certs []*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	return b.Bytes()
}

func keyBytes(m Material, der bool) ([]byte, error) {
	if der {
		return x509.MarshalPKCS8PrivateKey(m.Key)
	}
	return encode(m, format.TargetKey)
}

func encode(m Material, t format.Target) ([]byte, error) {
	return format.Encode(bundle(m), t, format.EncodeOptions{})
}

// keyStoreAlias names the key entry of JKS outputs (and is the alias the
// presets' instructions give).
const keyStoreAlias = "certkeeper"

// encodeKeyStore writes a PKCS#12 or JKS key store under m.Password.
func encodeKeyStore(m Material, t format.Target) ([]byte, error) {
	if m.Password == "" {
		return nil, errors.New("a key store needs a password")
	}
	return format.Encode(bundle(m), t, format.EncodeOptions{Password: []byte(m.Password), Alias: keyStoreAlias})
}

func bundle(m Material) *format.Bundle {
	return &format.Bundle{Chain: append([]*x509.Certificate{m.Leaf}, m.Chain...), Key: m.Key, KeyMatchesLeaf: true}
}
