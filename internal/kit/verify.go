package kit

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Options tune a verification. The zero value works.
type Options struct {
	// ServerNames, when set, must all be covered by the server's
	// certificate; the first is the name the handshake's client asks for.
	// Empty means the certificate's first name.
	ServerNames []string
	// Now is the clock; nil means time.Now. It is read once: every check
	// of a verification judges the same instant.
	Now func() time.Time
	// WarnWithin warns about certificates that expire sooner; 0 means 30 days.
	WarnWithin time.Duration
	// Timeout bounds each handshake; 0 means 10 seconds.
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	now := o.Now()
	o.Now = func() time.Time { return now }
	if o.WarnWithin == 0 {
		o.WarnWithin = 30 * 24 * time.Hour
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	return o
}

// role is what a side's certificate is used for.
type role struct {
	usage x509.ExtKeyUsage
	what  string // "server" or "client"
}

var (
	serverRole = role{x509.ExtKeyUsageServerAuth, "server"}
	clientRole = role{x509.ExtKeyUsageClientAuth, "client"}
)

// Verify checks that server and each client work together: each side on
// its own (key matches certificate, validity, key usage, issued by the CA
// in its own CA file), the server's names, then each pair (the same root,
// each side trusting the other's certificate) and a real mutual-TLS
// handshake in memory. Every failed check says in plain words what the
// peers will do.
func Verify(server *Side, clients []*Side, o Options) *Report {
	o = o.withDefaults()
	r := &Report{}
	checkSide(r, server, serverRole, o)
	checkNames(r, server, o)
	for _, c := range clients {
		checkSide(r, c, clientRole, o)
		checkPair(r, server, c, o)
	}
	return r
}

// VerifyPeers checks two servers that must share a root (peers that
// synchronise with each other): each side on its own as a server, the same
// root, each trusting the other's certificate for server use, and, when
// both certificates also allow client authentication, a handshake in each
// direction. Without clientAuth on both, only the roots are compared.
func VerifyPeers(a, b *Side, o Options) *Report {
	o = o.withDefaults()
	r := &Report{}
	checkSide(r, a, serverRole, o)
	checkSide(r, b, serverRole, o)
	checkSameRoot(r, a, b)
	checkTrust(r, a, b, serverRole, o)
	checkTrust(r, b, a, serverRole, o)
	subject := a.Label + " <-> " + b.Label
	if !allows(a.Leaf, x509.ExtKeyUsageClientAuth) || !allows(b.Leaf, x509.ExtKeyUsageClientAuth) {
		r.add(CheckHandshake, subject, Skip, "a peer certificate does not allow client authentication, so the peers cannot open mutual-TLS connections to each other; only their roots were compared")
		return r
	}
	checkHandshake(r, a, b, Options{Now: o.Now, Timeout: o.Timeout})
	checkHandshake(r, b, a, Options{Now: o.Now, Timeout: o.Timeout})
	return r
}

func checkSide(r *Report, s *Side, ro role, o Options) {
	checkKey(r, s)
	checkValidity(r, s, o)
	checkUsage(r, s, ro)
	checkOwnChain(r, s, o)
	checkFiles(r, s)
}

func checkKey(r *Report, s *Side) {
	pub, ok := s.Leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if ok && pub.Equal(s.Key.Public()) {
		r.add(CheckKeyMatch, s.Label, Pass, "%s belongs to %s", s.KeyFile, s.CertFile)
		return
	}
	r.add(CheckKeyMatch, s.Label, Fail, "%s does not belong to %s (another key pair): the %s cannot prove it owns its certificate, so every handshake will fail (OpenSSL says \"key values mismatch\")",
		s.KeyFile, s.CertFile, s.Label)
}

func checkValidity(r *Report, s *Side, o Options) {
	now := o.Now()
	worst := Pass
	var notes []string
	for _, c := range append([]*x509.Certificate{s.Leaf}, s.Trust...) {
		st, note := validity(c, now, o.WarnWithin)
		if st == Pass {
			continue
		}
		if st == Fail || worst == Pass {
			worst = st
		}
		notes = append(notes, note)
	}
	if worst == Pass {
		r.add(CheckValidity, s.Label, Pass, "%s and %s are valid; the certificate expires %s (%d days left)",
			s.CertFile, s.TrustFile, day(s.Leaf.NotAfter), daysLeft(now, s.Leaf.NotAfter))
		return
	}
	r.add(CheckValidity, s.Label, worst, "%s", strings.Join(notes, "; "))
}

func validity(c *x509.Certificate, now time.Time, warn time.Duration) (Status, string) {
	switch {
	case now.Before(c.NotBefore):
		return Fail, fmt.Sprintf("%s is not valid before %s: peers will reject it until then (check the clocks)", name(c), c.NotBefore.UTC().Format(time.RFC3339))
	case now.After(c.NotAfter):
		return Fail, fmt.Sprintf("%s expired on %s: peers will reject it (certificate_expired alert); issue a new kit", name(c), day(c.NotAfter))
	case c.NotAfter.Sub(now) < warn:
		return Warn, fmt.Sprintf("%s expires in %d days (%s): renew it soon", name(c), daysLeft(now, c.NotAfter), day(c.NotAfter))
	}
	return Pass, ""
}

func checkUsage(r *Report, s *Side, ro role) {
	c := s.Leaf
	if !allows(c, ro.usage) {
		r.add(CheckUsage, s.Label, Fail, "%s is not made for %s use (extended key usage: %s, %s missing): its peers will refuse it (OpenSSL says \"unsupported certificate purpose\"); issue it with the %s profile",
			s.CertFile, ro.what, usages(c), usageName(ro.usage), profileFor(ro))
		return
	}
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment|x509.KeyUsageKeyAgreement) == 0 {
		r.add(CheckUsage, s.Label, Fail, "%s's key usage allows neither digitalSignature nor keyEncipherment: it cannot be used in a TLS handshake", s.CertFile)
		return
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		r.add(CheckUsage, s.Label, Warn, "%s's key usage lacks digitalSignature: TLS 1.3 signs with the key, so strict peers may refuse it", s.CertFile)
		return
	}
	r.add(CheckUsage, s.Label, Pass, "%s allows %s use (%s)", s.CertFile, ro.what, usages(c))
}

func profileFor(ro role) string {
	if ro.what == "server" {
		return "tls-server"
	}
	return "tls-client"
}

// allows reports whether c may be used for u: no extended key usage at all
// means any use (RFC 5280 section 4.2.1.12).
func allows(c *x509.Certificate, u x509.ExtKeyUsage) bool {
	if len(c.ExtKeyUsage) == 0 && len(c.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(c.ExtKeyUsage, u) || slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny)
}

func checkOwnChain(r *Report, s *Side, o Options) {
	chain, err := ownChain(s, o.Now())
	if err == nil {
		r.add(CheckOwnChain, s.Label, Pass, "%s was issued by %s, which chains to %s in %s",
			s.CertFile, name(chain[1]), name(chain[len(chain)-1]), s.TrustFile)
		return
	}
	if isUnknownAuthority(err) {
		r.add(CheckOwnChain, s.Label, Fail, "%s was issued by %s, which is not in %s (it holds %s): %s belongs to another CA than the certificate",
			s.CertFile, dn(s.Leaf.Issuer.String(), s.Leaf.Issuer.CommonName), s.TrustFile, names(s.Trust), s.TrustFile)
		return
	}
	r.add(CheckOwnChain, s.Label, Fail, "%s does not chain to %s: %v", s.CertFile, s.TrustFile, err)
}

// ownChain verifies s's certificate against its own CA file, for any use,
// up to a self-signed root when the file has one. The result is kept for
// the next call at the same time.
func ownChain(s *Side, now time.Time) ([]*x509.Certificate, error) {
	if s.memo != nil && s.memo.at.Equal(now) {
		return s.memo.chain, s.memo.err
	}
	roots, inter := splitTrust(s.Trust)
	chains, err := s.Leaf.Verify(x509.VerifyOptions{
		Roots: pool(roots), Intermediates: pool(append(slices.Clone(s.Intermediates), inter...)),
		CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	s.memo = &chainMemo{at: now, err: err}
	if err == nil {
		s.memo.chain = chains[0]
	}
	return s.memo.chain, err
}

func checkNames(r *Report, s *Side, o Options) {
	c := s.Leaf
	if len(c.DNSNames) == 0 && len(c.IPAddresses) == 0 {
		r.add(CheckNames, s.Label, Fail, "%s has no subject alternative names: clients ignore the common name %q and will reject it", s.CertFile, c.Subject.CommonName)
		return
	}
	var missing []string
	for _, n := range o.ServerNames {
		if c.VerifyHostname(n) != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		r.add(CheckNames, s.Label, Fail, "%s is not valid for %s (it names %s): clients connecting to that name will reject it",
			s.CertFile, strings.Join(missing, ", "), sans(c))
		return
	}
	if len(o.ServerNames) == 0 {
		r.add(CheckNames, s.Label, Pass, "%s names %s (give --server-name to check the names clients use)", s.CertFile, sans(c))
		return
	}
	r.add(CheckNames, s.Label, Pass, "%s is valid for %s", s.CertFile, strings.Join(o.ServerNames, ", "))
}

func checkPair(r *Report, server, client *Side, o Options) {
	checkSameRoot(r, server, client)
	checkTrust(r, server, client, clientRole, o)
	checkTrust(r, client, server, serverRole, o)
	checkHandshake(r, server, client, o)
}

func checkSameRoot(r *Report, a, b *Side) {
	ra, rb := rootOf(a.Trust), rootOf(b.Trust)
	subject := a.Label + " / " + b.Label
	if ra == nil || rb == nil {
		r.add(CheckSameRoot, subject, Fail, "a CA file holds no certificate")
		return
	}
	if ra.Equal(rb) {
		r.add(CheckSameRoot, subject, Pass, "both trust the root %s (SHA-256 %s)", name(ra), shortFP(ra))
		return
	}
	r.add(CheckSameRoot, subject, Fail, "the %s trusts the root %s (SHA-256 %s) but the %s trusts %s (SHA-256 %s): they belong to two different PKIs; make both kits from one CA",
		a.Label, name(ra), shortFP(ra), b.Label, name(rb), shortFP(rb))
}

// splitTrust separates the self-signed roots of a CA file from the other
// certificates; a file without a self-signed certificate is all roots.
func splitTrust(certs []*x509.Certificate) (roots, others []*x509.Certificate) {
	for _, c := range certs {
		if isSelfSigned(c) {
			roots = append(roots, c)
		} else {
			others = append(others, c)
		}
	}
	if len(roots) == 0 {
		return certs, nil
	}
	return roots, others
}
