package ca

import (
	"crypto"
	"crypto/x509"
	"net"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Profile names what an issued certificate is for.
type Profile string

// Profiles.
const (
	// TLSServer: serverAuth; DNS and IP names.
	TLSServer Profile = "tls-server"
	// TLSClient: clientAuth, e.g. an emulator host or an agent.
	TLSClient Profile = "tls-client"
	// TLSServerClient: serverAuth and clientAuth (peers that both accept
	// and open connections).
	TLSServerClient Profile = "tls-server-client"
	// SubCA: an issuing CA under one of certkeeper's CAs.
	SubCA Profile = "sub-ca"
	// OCSPResponder: a delegated OCSP responder certificate (id-kp-OCSPSigning
	// and id-pkix-ocsp-nocheck, RFC 6960 section 4.2.2.2), issued by a CA
	// for its own responder.
	OCSPResponder Profile = "ocsp-responder"
)

// KeySpec names a key type and size.
type KeySpec string

// Key specs.
const (
	ECDSAP256 KeySpec = "ecdsa-p256"
	ECDSAP384 KeySpec = "ecdsa-p384"
	RSA2048   KeySpec = "rsa-2048"
	RSA3072   KeySpec = "rsa-3072"
	RSA4096   KeySpec = "rsa-4096"
	Ed25519   KeySpec = "ed25519"
)

// Request asks a CA for a certificate.
type Request struct {
	// CA names the signing CA; "" means the default CA.
	CA      string
	Profile Profile
	// CommonName is the subject CN; "" means the first DNS name or IP.
	CommonName  string
	DNSNames    []string
	IPAddresses []net.IP
	// Validity is the certificate's lifetime; 0 means the profile default,
	// cut at the CA's own expiry. A validity beyond the profile maximum or
	// the CA's expiry is refused (see docs/ca.md for the limits).
	Validity time.Duration
	// KeySpec is the key generated for the certificate; "" means
	// ecdsa-p256. Ignored when CSR is set.
	KeySpec KeySpec
	// CSR, when set, is signed instead of generating a key: its signature
	// is verified and its names checked against the CA's policy. Names in
	// the request fields, when given, replace the CSR's.
	CSR *x509.CertificateRequest
	// Labels are stored with the certificate.
	Labels []string
	// Requester is who asks: their role's issuance policy decides what
	// they may get (see docs/ca.md). A request without a requester of a
	// known role is refused.
	Requester Requester
	// OnBehalfOf, when set, names the requester whose request
	// Requester, an admin, approved: the admin vouches for it, so the
	// role policy it fell outside of is not applied again (the CA's name
	// policy, profiles and lints are), and the audit trail names both.
	// Only acquisition.Service.Approve sets it, after checking that the
	// admin is not the requester.
	OnBehalfOf string
	// Actor is recorded in the audit trail; "" means Requester.Name.
	Actor string
}

// Issued is a certificate a CA signed and recorded.
type Issued struct {
	Certificate *x509.Certificate
	// Chain is the issuing CA's chain, intermediate first, up to the root.
	Chain []*x509.Certificate
	// Key is the generated private key, or nil when a CSR was signed.
	Key crypto.Signer
	// Record is the stored certificate (with its ID).
	Record *inventory.Certificate
	// KeyID is the stored key's ID, or zero when a CSR was signed.
	KeyID int64
}
