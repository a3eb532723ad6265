package kit

import (
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// checkTrust judges peer's certificate the way judge will in a handshake:
// against judge's CA file, for the use ro.
func checkTrust(r *Report, judge, peer *Side, ro role, o Options) {
	subject := judge.Label + " <- " + peer.Label
	_, err := peer.Leaf.Verify(x509.VerifyOptions{
		Roots: pool(judge.Trust), Intermediates: pool(sendChain(peer, o.Now())),
		CurrentTime: o.Now(), KeyUsages: []x509.ExtKeyUsage{ro.usage},
	})
	if err == nil {
		r.add(CheckTrust, subject, Pass, "%s accepts %s's certificate %s for %s use (%s trusts %s)",
			the(judge), the(peer), name(peer.Leaf), ro.what, judge.TrustFile, name(rootOf(judge.Trust)))
		return
	}
	r.add(CheckTrust, subject, Fail, "%s", explainTrust(err, judge, peer, ro))
}

// explainTrust says in plain words why judge rejects peer's certificate
// and what each side will see.
func explainTrust(err error, judge, peer *Side, ro role) string {
	var inv x509.CertificateInvalidError
	switch {
	case isUnknownAuthority(err):
		return fmt.Sprintf("%s's certificate comes from another root (%s) than %s trusts (%s): %s will reject it and %s will see a bad_certificate alert (unknown_ca from OpenSSL-based peers)",
			the(peer), peerRoot(peer), the(judge), name(rootOf(judge.Trust)), the(judge), the(peer))
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		return fmt.Sprintf("%s's certificate chain is not valid now (%s): %s will reject it and %s will see a certificate_expired alert",
			the(peer), inv.Detail, the(judge), the(peer))
	case errors.As(err, &inv) && inv.Reason == x509.IncompatibleUsage:
		return fmt.Sprintf("%s's certificate is not allowed for %s use (extended key usage: %s): %s will reject it and %s will see an unsupported_certificate or bad_certificate alert",
			the(peer), ro.what, usages(peer.Leaf), the(judge), the(peer))
	case errors.As(err, &inv) && inv.Reason == x509.NotAuthorizedToSign:
		return fmt.Sprintf("a certificate in %s's chain signs others but is not a CA certificate: %s will reject it", the(peer), the(judge))
	}
	return fmt.Sprintf("%s will reject %s's certificate: %v", the(judge), the(peer), err)
}

func isUnknownAuthority(err error) bool {
	var ua x509.UnknownAuthorityError
	return errors.As(err, &ua)
}

// peerRoot names the root s's certificate chains to in its own CA file
// (whatever the dates), or the certificate's issuer when it does not chain
// there.
func peerRoot(s *Side) string {
	if chain, err := ownChain(s, s.Leaf.NotBefore.Add(time.Second)); err == nil {
		return name(chain[len(chain)-1])
	}
	return "issued by " + dn(s.Leaf.Issuer.String(), s.Leaf.Issuer.CommonName)
}

// sendChain is what s sends after its certificate in a handshake: the
// intermediates between it and the root of its own CA file (as OpenSSL
// builds them), or else those in its certificate file.
func sendChain(s *Side, now time.Time) []*x509.Certificate {
	if chain, err := ownChain(s, now); err == nil && len(chain) > 2 {
		return chain[1 : len(chain)-1]
	}
	return s.Intermediates
}

// rootOf is the self-signed certificate of a CA file, else its last one.
func rootOf(certs []*x509.Certificate) *x509.Certificate {
	for _, c := range certs {
		if isSelfSigned(c) {
			return c
		}
	}
	if len(certs) == 0 {
		return nil
	}
	return certs[len(certs)-1]
}

func pool(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func the(s *Side) string { return "the " + s.Label }

// name is "CN=..." when a certificate has a common name, else its subject.
func name(c *x509.Certificate) string {
	if c == nil {
		return "(none)"
	}
	return dn(c.Subject.String(), c.Subject.CommonName)
}

func dn(full, cn string) string {
	if cn != "" {
		return "CN=" + cn
	}
	return full
}

func names(certs []*x509.Certificate) string {
	out := make([]string, len(certs))
	for i, c := range certs {
		out[i] = name(c)
	}
	return strings.Join(out, ", ")
}

func sans(c *x509.Certificate) string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	if len(out) == 0 {
		return "no names"
	}
	return strings.Join(out, ", ")
}

func usages(c *x509.Certificate) string {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return "none, so any"
	}
	var out []string
	for _, u := range c.ExtKeyUsage {
		out = append(out, usageName(u))
	}
	for _, u := range c.UnknownExtKeyUsage {
		out = append(out, u.String())
	}
	return strings.Join(out, ", ")
}

func usageName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	case x509.ExtKeyUsageCodeSigning:
		return "codeSigning"
	case x509.ExtKeyUsageEmailProtection:
		return "emailProtection"
	case x509.ExtKeyUsageOCSPSigning:
		return "OCSPSigning"
	case x509.ExtKeyUsageAny:
		return "any"
	}
	return fmt.Sprintf("usage %d", u)
}

// shortFP is the first bytes of the SHA-256 fingerprint, colon-separated.
func shortFP(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	var b strings.Builder
	for i, x := range sum[:8] {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", x)
	}
	return b.String() + "..."
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

func daysLeft(now, t time.Time) int { return int(t.Sub(now).Hours() / 24) }
