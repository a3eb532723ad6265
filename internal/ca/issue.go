package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// Issue signs a certificate for r and records it: it checks the request
// against the profile and the CA's name policy, generates the key (or
// verifies the CSR's signature), lints a throwaway copy, reserves the
// serial durably, signs, and stores the certificate, its key and the
// audit event before returning. When the request is refused nothing is
// stored but, for a refusal by the issuance policy, an audit event
// ca.refuse naming the rule.
func (a *Authority) Issue(ctx context.Context, r Request) (*Issued, error) {
	iss, err := a.issuerFor(ctx, r.CA)
	if err != nil {
		return nil, err
	}
	pub, key, err := a.subjectKey(r)
	if err != nil {
		return nil, err
	}
	tmpl, err := a.prepare(iss, r, pub)
	if err != nil {
		return nil, a.auditRefusal(ctx, iss, r, err)
	}
	l, err := iss.lint(a.lints, a.lintSetFor(r.Profile, key == nil), tmpl, pub)
	if err != nil {
		return nil, err
	}
	serial := serialHex(tmpl.SerialNumber)
	if _, err := a.reserveGroup(iss.ca.ID).do(ctx, serial); err != nil {
		return nil, fmt.Errorf("ca: reserve serial: %w", err)
	}
	cert, err := iss.sign(l)
	if err != nil {
		return nil, err
	}
	return a.recordIssued(ctx, iss, r, cert, key)
}

// issuerFor returns the active CA named name, or the default CA.
func (a *Authority) issuerFor(ctx context.Context, name string) (*issuer, error) {
	c, err := a.lookupCA(ctx, name)
	if err != nil {
		return nil, err
	}
	if c.Status != inventory.CAActive {
		return nil, fmt.Errorf("ca: %s is %s and signs nothing", c.Name, c.Status)
	}
	iss, err := a.issuer(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	fresh := *iss // same signer; the current record (policy) of the CA
	fresh.ca = *c
	return &fresh, nil
}

// lookupCA finds a CA by name; "" is the default CA. Lookups are cached
// for caLookupTTL so that issuance does not query the CA table each time;
// changes made by another process show after at most that long.
func (a *Authority) lookupCA(ctx context.Context, name string) (*inventory.CA, error) {
	now := a.cfg.Now()
	a.mu.Lock()
	e, ok := a.byName[name]
	a.mu.Unlock()
	if ok && now.Sub(e.at) < caLookupTTL && now.Sub(e.at) >= 0 {
		c := e.ca
		return &c, nil
	}
	c, err := a.queryCA(ctx, name)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.byName[name] = lookup{ca: *c, at: now}
	a.mu.Unlock()
	return c, nil
}

// caLookupTTL bounds how long a CA lookup is cached.
const caLookupTTL = 2 * time.Second

type lookup struct {
	ca inventory.CA
	at time.Time
}

// queryCA reads a CA by name from the store; "" is the default CA.
func (a *Authority) queryCA(ctx context.Context, name string) (*inventory.CA, error) {
	var c *inventory.CA
	var err error
	if name == "" {
		c, err = a.st.DefaultCA(ctx)
		if errors.Is(err, inventory.ErrNotFound) {
			return nil, errors.New("ca: no default CA: run \"certkeeper ca init\" or name one with --ca")
		}
	} else {
		c, err = a.st.CAByName(ctx, name)
		if errors.Is(err, inventory.ErrNotFound) {
			return nil, fmt.Errorf("ca: no CA named %q", name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	return c, nil
}

// subjectKey returns the certified public key: the CSR's, after checking
// its signature, or that of a key generated now.
func (a *Authority) subjectKey(r Request) (crypto.PublicKey, crypto.Signer, error) {
	if _, ok := profiles[r.Profile]; !ok {
		return nil, nil, refused("profile", "unknown profile %q (want %s)", r.Profile, profileNames())
	}
	if r.CSR != nil {
		if err := r.CSR.CheckSignature(); err != nil {
			return nil, nil, refused("csr", "CSR signature does not verify: %v", err)
		}
		return r.CSR.PublicKey, nil, nil
	}
	key, err := generateKey(a.cfg.Rand, r.KeySpec)
	if err != nil {
		return nil, nil, err
	}
	return key.Public(), key, nil
}

func profileNames() string {
	var s []string
	for _, p := range Profiles() {
		s = append(s, string(p))
	}
	return strings.Join(s, ", ")
}

// prepare checks r against the profile and the CA, and builds the
// certificate template.
func (a *Authority) prepare(iss *issuer, r Request, pub crypto.PublicKey) (*x509.Certificate, error) {
	names, err := requestNames(r)
	if err != nil {
		return nil, err
	}
	spec := r.Profile.spec()
	if spec.webPKI && names.empty() {
		return nil, refused("dns_names", "%s certificates need at least one DNS name or IP address", r.Profile)
	}
	if spec.names {
		if err := checkPolicy(iss.ca.Name, iss.ca.Policy, names); err != nil {
			return nil, err
		}
	}
	if err := checkRequest(&iss.ca, r, names); err != nil {
		return nil, err
	}
	if spec.ca && iss.cert.MaxPathLenZero {
		return nil, refused("profile", "%s may not issue CA certificates (path length 0); use its root", iss.ca.Name)
	}
	subject, err := a.subject(iss, r, names)
	if err != nil {
		return nil, err
	}
	notBefore, notAfter, err := r.Profile.validity(a.cfg.Now(), r.Validity, iss.cert.NotAfter)
	if err != nil {
		return nil, err
	}
	if limit := roleCap(&iss.ca, r.Requester.Role); limit > 0 && notAfter.Sub(notBefore) >= limit {
		notAfter = notBefore.Add(limit).Add(-time.Second) // a request asking for no validity, cut at the role's cap
	}
	serial, err := newSerial(a.cfg.Rand)
	if err != nil {
		return nil, err
	}
	t, err := r.Profile.template(serial, subject, names, pub, notBefore, notAfter)
	if err != nil {
		return nil, err
	}
	if spec.ca {
		constrain(t, iss.ca.Policy)
	}
	a.publish(t, iss.ca.ID)
	return t, nil
}

// requestNames are the request's names, or the CSR's when it gives none.
func requestNames(r Request) (nameSet, error) {
	dns, ips := r.DNSNames, r.IPAddresses
	if r.CSR != nil && len(dns) == 0 && len(ips) == 0 {
		dns, ips = r.CSR.DNSNames, r.CSR.IPAddresses
	}
	return normalizeNames(dns, ips)
}

// subject builds the subject name. Only the common name is taken from a
// request or CSR (other CSR subject attributes are not vouched for); CA
// certificates add the CA organisation. For TLS profiles a given common
// name must be one of the names (Baseline Requirements 7.1.4.3).
func (a *Authority) subject(iss *issuer, r Request, names nameSet) (pkix.Name, error) {
	cn := r.CommonName
	if cn == "" && r.CSR != nil {
		cn = r.CSR.Subject.CommonName
	}
	spec := r.Profile.spec()
	switch {
	case spec.ca || r.Profile == OCSPResponder:
		if cn == "" && r.Profile == OCSPResponder {
			cn = iss.ca.Name + " OCSP Responder"
		}
		if cn == "" {
			return pkix.Name{}, refused("common_name", "a sub-CA needs a common name")
		}
		return pkix.Name{CommonName: cn, Organization: []string{a.cfg.Organization}}, nil
	case cn == "":
		cn = names.first()
	case spec.webPKI && !names.has(cn):
		return pkix.Name{}, refused("common_name", "common name %q must be one of the certificate's names", cn)
	}
	if cn == "" {
		return pkix.Name{}, refused("common_name", "%s certificates need a common name or a name", r.Profile)
	}
	return pkix.Name{CommonName: cn}, nil
}

func (n nameSet) has(s string) bool {
	for _, d := range n.dns {
		if strings.EqualFold(d, s) {
			return true
		}
	}
	for _, ip := range n.ips {
		if ip.String() == s {
			return true
		}
	}
	return false
}

// publish adds the CA's publication URLs when a base URL is configured
// (RFC 5280 sections 4.2.1.13 and 4.2.2.1).
func (a *Authority) publish(t *x509.Certificate, caID int64) {
	if a.cfg.BaseURL == "" {
		return
	}
	t.CRLDistributionPoints = []string{CRLURL(a.cfg.BaseURL, caID)}
	t.IssuingCertificateURL = []string{CertURL(a.cfg.BaseURL, caID)}
	t.OCSPServer = []string{OCSPURL(a.cfg.BaseURL, caID)}
}

func (a *Authority) lintSetFor(p Profile, foreignKey bool) lintSet {
	return lintSet{webPKI: p.spec().webPKI, published: a.cfg.BaseURL != "", foreignKey: foreignKey}
}

// newSerial draws a serial number of 127 random bits: 16 bytes with the
// top bit cleared, so it is positive and at most 20 octets (RFC 5280
// section 4.1.2.2; CA/B Forum BR 7.1 asks for at least 64 bits).
func newSerial(rnd io.Reader) (*big.Int, error) {
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return nil, fmt.Errorf("ca: serial: %w", err)
	}
	b[0] &= 0x7f
	n := new(big.Int).SetBytes(b[:])
	if n.Sign() == 0 {
		return nil, errors.New("ca: serial: randomness returned zeros")
	}
	return n, nil
}

// serialHex is the stored form of a serial: lowercase hex of its
// big-endian bytes, as inventory.NewCertificate writes it.
func serialHex(n *big.Int) string { return hex.EncodeToString(n.Bytes()) }

// recordIssued stores the certificate, its sealed key and audit event.
func (a *Authority) recordIssued(ctx context.Context, iss *issuer, r Request, cert *x509.Certificate, key crypto.Signer) (*Issued, error) {
	rec := inventory.NewCertificate(cert, "ca:"+iss.ca.Name)
	rec.Labels = r.Labels
	// What certkeeper issues for itself is renewed by it and left out of
	// expiry counts (inventory.Certificate.Internal).
	rec.Internal = r.Requester.Role == RoleSystem
	summary := fmt.Sprintf("%s %q by %s until %s, requested by %s (%s)", r.Profile, rec.CommonName, iss.ca.Name,
		rec.NotAfter.Format("2006-01-02"), r.Requester.Name, r.Requester.Role)
	if r.OnBehalfOf != "" {
		summary = fmt.Sprintf("%s %q by %s until %s, requested by %s, approved by %s (%s)", r.Profile, rec.CommonName,
			iss.ca.Name, rec.NotAfter.Format("2006-01-02"), r.OnBehalfOf, r.Requester.Name, r.Requester.Role)
	}
	is := inventory.Issuance{CAID: iss.ca.ID, Certificate: rec, Audit: &inventory.AuditEvent{
		Actor: first(r.Actor, r.Requester.Name), Action: "ca.issue",
		Summary: summary,
	}}
	if key != nil {
		k, err := keys.SealPrivateKey(a.sealer, key, a.cfg.Now())
		if err != nil {
			return nil, fmt.Errorf("ca: %w", err)
		}
		is.Key = k
	}
	id, err := a.record.do(ctx, is)
	if err != nil {
		return nil, fmt.Errorf("ca: record certificate: %w", err)
	}
	rec.ID = id
	out := &Issued{Certificate: cert, Chain: append([]*x509.Certificate(nil), iss.chain...), Record: rec}
	if key != nil {
		out.Key, out.KeyID, rec.KeyID = key, is.Key.ID, is.Key.ID
	}
	return out, nil
}
