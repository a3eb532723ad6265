package ca

import (
	"strconv"
	"strings"
)

// Publication paths. "certkeeper serve" publishes every CA's certificate,
// CRL and OCSP responder under these paths over plain HTTP (clients fetch
// them before they trust anything); issued certificates carry the URLs
// (CRL distribution point and authority information access, RFC 5280
// sections 4.2.1.13 and 4.2.2.1) when an external base URL is configured.
const (
	PathCACert = "/pki/ca/{id}"   // {id}.crt (DER) or {id}.pem
	PathCRL    = "/pki/crl/{id}"  // {id}.crl (DER) or {id}.pem
	PathOCSP   = "/pki/ocsp/{id}" // POST, or GET with the request appended (RFC 6960 appendix A)
)

// CertURL is where a CA's certificate (DER) is published.
func CertURL(base string, caID int64) string { return join(base, "/pki/ca/", caID, ".crt") }

// CRLURL is where a CA's latest CRL (DER) is published.
func CRLURL(base string, caID int64) string { return join(base, "/pki/crl/", caID, ".crl") }

// OCSPURL is a CA's OCSP responder.
func OCSPURL(base string, caID int64) string { return join(base, "/pki/ocsp/", caID, "") }

func join(base, dir string, id int64, ext string) string {
	return strings.TrimSuffix(base, "/") + dir + strconv.FormatInt(id, 10) + ext
}
