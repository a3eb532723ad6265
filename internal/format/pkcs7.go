package format

import (
	"bytes"
	"crypto/x509"

	"github.com/smallstep/pkcs7"
)

const pkcs7Format = string(KindPKCS7)

// decodePKCS7 reads the certificates of a PKCS#7 / CMS SignedData
// (RFC 5652 §5), DER or BER, such as a ".p7b" file. Signatures, content
// and CRLs are ignored.
func decodePKCS7(data []byte) (b *Bundle, err error) {
	defer recoverMalformed(&b, &err)
	certs, err := parsePKCS7Certs(data)
	if err != nil {
		return nil, err
	}
	return buildBundle(KindPKCS7, certs, nil, false), nil
}

// parsePKCS7Certs checks the BER structure first (the library's BER to
// DER conversion recurses on nesting) and returns the certificates field
// of the SignedData (RFC 5652 §5.1).
func parsePKCS7Certs(data []byte) ([]*x509.Certificate, error) {
	s := berScanner{}
	if err := s.scan(data); err != nil {
		return nil, malformedf(pkcs7Format, "%v", err)
	}
	p7, err := pkcs7.Parse(data)
	if err != nil {
		return nil, malformedf(pkcs7Format, "%s", libError(err, "pkcs7: ", "ber2der: "))
	}
	if len(p7.Certificates) == 0 {
		return nil, malformedf(pkcs7Format, "signed data holds no certificates")
	}
	return p7.Certificates, nil
}

// encodeP7B writes a degenerate SignedData holding certs and nothing else
// (RFC 5652 §5: no signers, no content), the ".p7b" certificate bag.
func encodeP7B(certs []*x509.Certificate) ([]byte, error) {
	var raw bytes.Buffer
	for _, c := range certs {
		raw.Write(c.Raw)
	}
	return pkcs7.DegenerateCertificate(raw.Bytes())
}
