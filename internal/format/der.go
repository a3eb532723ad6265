package format

import (
	"crypto/x509"
)

// decodeDER reads one or more concatenated DER certificates (RFC 5280
// §4.1) or one DER private key, plain or encrypted (see parseDERKey).
func decodeDER(data, password []byte) (b *Bundle, err error) {
	defer recoverMalformed(&b, &err)
	if certs, cerr := x509.ParseCertificates(data); cerr == nil && len(certs) > 0 {
		return buildBundle(KindDER, certs, nil, false), nil
	}
	key, err := parseDERKey(string(KindDER), data, password)
	if err != nil {
		return nil, err
	}
	return buildBundle(KindDER, nil, key, false), nil
}
