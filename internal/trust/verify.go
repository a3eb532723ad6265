package trust

import (
	"bytes"
	"crypto/x509"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// verifier builds chains with x509.Certificate.Verify, and steps over the
// links it refuses only because they are signed with SHA-1 (or MD5, to a
// root): such a chain is trusted, and its weakness is reported as
// weak_signature instead. A weak link between served certificates is
// checked with x509.Certificate.CheckSignature, which still accepts SHA-1;
// MD2 and MD5 signatures between served certificates break the chain.
type verifier struct {
	opts x509.VerifyOptions
	// known are the certificates that may sit above a weak link: the served
	// ones and the fetched ones (a CertPool cannot be listed).
	known []*x509.Certificate
	// untrusted remembers the certificates already found not to chain with
	// the current intermediates, which bounds the search.
	untrusted map[*x509.Certificate]bool
}

func newVerifier(roots *x509.CertPool, served []*x509.Certificate, at time.Time) *verifier {
	v := &verifier{opts: x509.VerifyOptions{
		Roots:         roots,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}, untrusted: map[*x509.Certificate]bool{}}
	v.addCerts(served)
	return v
}

// addPool adds the certificates of pool, which may be nil, as intermediates.
func (v *verifier) addPool(pool *x509.CertPool) {
	if pool == nil {
		return
	}
	merged := pool.Clone()
	for _, c := range v.known {
		merged.AddCert(c)
	}
	v.opts.Intermediates = merged
	clear(v.untrusted)
}

func (v *verifier) addCerts(certs []*x509.Certificate) {
	for _, c := range certs {
		v.opts.Intermediates.AddCert(c)
	}
	v.known = append(v.known, certs...)
	clear(v.untrusted)
}

// trusted reports whether c chains to a trusted root.
func (v *verifier) trusted(c *x509.Certificate, depth int) bool {
	if _, err := c.Verify(v.opts); err == nil {
		return true
	}
	if depth == maxDepth || v.untrusted[c] {
		return false
	}
	if v.rootNamed(c) {
		return true
	}
	for _, ca := range v.known {
		if ca != c && v.reachesWeak(c, ca) && v.trusted(ca, depth+1) {
			return true
		}
	}
	v.untrusted[c] = true
	return false
}

// reachesWeak reports whether c reaches ca through links that Verify
// refuses only for their SHA-1 signature: either c is signed by ca with
// SHA-1, or c verifies up to ca and ca itself bears a weak signature.
func (v *verifier) reachesWeak(c, ca *x509.Certificate) bool {
	if !ca.IsCA {
		return false
	}
	if weakAlgorithm(c.SignatureAlgorithm) {
		return bytes.Equal(ca.RawSubject, c.RawIssuer) &&
			ca.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
	}
	if !weakAlgorithm(ca.SignatureAlgorithm) || inventory.IsSelfSigned(ca) {
		return false
	}
	opts := v.opts
	opts.Roots = x509.NewCertPool()
	opts.Roots.AddCert(ca)
	_, err := c.Verify(opts)
	return err == nil
}

// rootNamed reports whether c bears a weak signature from an issuer whose
// name is among the roots. A CertPool cannot hand out its certificates, so
// the signature cannot be checked and the link is accepted on the name; the
// weak_signature finding says what is wrong with it. The system pool lists
// no names, so under the system roots such a link stays untrusted.
func (v *verifier) rootNamed(c *x509.Certificate) bool {
	if v.opts.Roots == nil || !weakAlgorithm(c.SignatureAlgorithm) {
		return false
	}
	//lint:ignore SA1019 only caller-built pools are listed; for a system pool the answer is "no", which is safe.
	for _, subject := range v.opts.Roots.Subjects() {
		if bytes.Equal(subject, c.RawIssuer) {
			return true
		}
	}
	return false
}
