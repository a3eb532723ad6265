package ca

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"
)

const day = 24 * time.Hour

// Validity limits. TLS certificates default to 365 days and may live up
// to 825 (a private CA is not bound by the 398 days of the Baseline
// Requirements); sub-CAs default to 5 years, at most 10; OCSP responder
// certificates are short-lived (RFC 6960 section 4.2.2.2.1: they carry
// id-pkix-ocsp-nocheck, so they cannot be revoked usefully).
const (
	tlsDefault  = 365 * day
	tlsMax      = 825 * day
	subCADef    = 5 * 365 * day
	subCAMax    = 10 * 365 * day
	ocspDefault = 30 * day
	ocspMax     = 90 * day
	rootLife    = 10 * 365 * day
	interLife   = 5 * 365 * day
	// backdate absorbs clock skew between certkeeper and relying parties.
	backdate = time.Minute
)

// profileSpec says what a profile puts in a certificate.
type profileSpec struct {
	ekus            []x509.ExtKeyUsage
	ca              bool
	names           bool // carries DNS and IP SANs
	webPKI          bool // Baseline Requirements lints apply
	defaultValidity time.Duration
	maxValidity     time.Duration
}

var profiles = map[Profile]profileSpec{
	TLSServer:       {ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, names: true, webPKI: true, defaultValidity: tlsDefault, maxValidity: tlsMax},
	TLSClient:       {ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, names: true, defaultValidity: tlsDefault, maxValidity: tlsMax},
	TLSServerClient: {ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, names: true, webPKI: true, defaultValidity: tlsDefault, maxValidity: tlsMax},
	SubCA:           {ca: true, defaultValidity: subCADef, maxValidity: subCAMax},
	OCSPResponder:   {ekus: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}, defaultValidity: ocspDefault, maxValidity: ocspMax},
}

// spec returns the profile's spec; the zero spec for an unknown profile.
func (p Profile) spec() profileSpec { return profiles[p] }

// Profiles lists the profile names.
func Profiles() []Profile {
	return []Profile{TLSServer, TLSClient, TLSServerClient, SubCA, OCSPResponder}
}

// oidOCSPNoCheck is id-pkix-ocsp-nocheck (RFC 6960 section 4.2.2.2.1).
var oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}

// validity works out NotBefore and NotAfter for a request: requested is
// the asked lifetime (0: the profile default). An asked lifetime beyond
// the profile maximum or the CA's expiry is refused; the default is cut
// at the CA's expiry.
func (p Profile) validity(now time.Time, requested time.Duration, caNotAfter time.Time) (time.Time, time.Time, error) {
	spec := p.spec()
	notBefore := now.Add(-backdate).UTC().Truncate(time.Second)
	life := requested
	switch {
	case requested < 0:
		return time.Time{}, time.Time{}, refused("validity_days", "validity must be positive")
	case requested == 0:
		life = spec.defaultValidity
	case requested > spec.maxValidity:
		return time.Time{}, time.Time{}, refused("validity_days", "%s certificates may be valid for at most %d days, not %d",
			p, int(spec.maxValidity/day), int(requested/day))
	}
	notAfter := notBefore.Add(life).Add(-time.Second) // RFC 5280 4.1.2.5: NotAfter is inclusive
	if notAfter.After(caNotAfter) {
		if requested != 0 {
			return time.Time{}, time.Time{}, refused("validity_days", "%d days would outlive the CA, which expires %s",
				int(requested/day), caNotAfter.UTC().Format(time.DateOnly))
		}
		notAfter = caNotAfter
	}
	return notBefore, notAfter, nil
}

// template builds the certificate for a checked request (RFC 5280 section
// 4.1). pub is the subject's public key.
func (p Profile) template(serial *big.Int, subject pkix.Name, names nameSet, pub crypto.PublicKey, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	spec := p.spec()
	ski, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	t := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		BasicConstraintsValid: true,
		ExtKeyUsage:           spec.ekus,
		SubjectKeyId:          ski,
	}
	switch {
	case spec.ca:
		// RFC 5280 4.2.1.9 and 4.2.1.3: an issuing CA that issues no CA.
		t.IsCA, t.MaxPathLen, t.MaxPathLenZero = true, 0, true
		t.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	default:
		t.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := pub.(*rsa.PublicKey); ok && spec.webPKI {
			t.KeyUsage |= x509.KeyUsageKeyEncipherment // RSA key exchange of TLS 1.2
		}
	}
	if spec.names {
		t.DNSNames, t.IPAddresses = names.dns, names.ips
	}
	if p == OCSPResponder {
		t.ExtraExtensions = []pkix.Extension{{Id: oidOCSPNoCheck, Value: []byte{asn1.TagNull, 0}}}
	}
	return t, nil
}

// subjectKeyID derives a key identifier from the subject public key: the
// leftmost 160 bits of its SHA-256 (RFC 7093 section 2, method 1; RFC
// 5280 section 4.2.1.2).
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("ca: public key: %w", err)
	}
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return nil, fmt.Errorf("ca: public key: %w", err)
	}
	sum := sha256.Sum256(info.PublicKey.Bytes)
	return sum[:20], nil
}
