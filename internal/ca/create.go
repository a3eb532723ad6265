package ca

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// InitOptions says how Init creates a CA. The zero value creates a root
// and an issuing intermediate with a generated name.
type InitOptions struct {
	// Name names the issuing CA; its root is Name + "-root". "" means the
	// organisation and the UTC time, e.g. "certkeeper-20261122-191300".
	Name string
	// CommonName is the issuing CA's subject CN; its root's is CommonName
	// + " Root CA". "" means Name.
	CommonName string
	// RootKey is the root's key type: ecdsa-p384 (the default) or
	// rsa-4096. The issuing CA always gets ECDSA P-256.
	RootKey KeySpec
	// Organization is the subject O; "" means Config.Organization.
	Organization string
	// Policy limits the names the issuing CA signs for; it is also written
	// into its certificate as name constraints.
	Policy inventory.NamePolicy
	// Subordinate creates only a key and a certificate request for an
	// outside PKI to sign: the CA stays pending until Activate.
	Subordinate bool
	// Default makes the new CA the default. The first CA is the default
	// anyway.
	Default bool
	// Actor is recorded in the audit trail.
	Actor string
}

// Init creates a CA: a root (10 years) and an issuing intermediate (5
// years, path length 0) whose record it returns, or with Subordinate a
// pending CA whose request (CSRID) awaits an outside PKI.
func (a *Authority) Init(ctx context.Context, o InitOptions) (*inventory.CA, error) {
	if o.Organization == "" {
		o.Organization = a.cfg.Organization
	}
	if o.Name == "" {
		o.Name = defaultName(o.Organization, a.cfg.Now())
	}
	if err := ValidatePolicy(o.Policy); err != nil {
		return nil, err
	}
	if err := a.nameFree(ctx, o.Name); err != nil {
		return nil, err
	}
	if o.Subordinate {
		return a.initSubordinate(ctx, o)
	}
	if root, err := a.interruptedRoot(ctx, o.Name); err != nil || root != nil {
		if err != nil {
			return nil, err
		}
		return a.resumeInit(ctx, o, root)
	}
	root, rootIss, err := a.createRoot(ctx, o)
	if err != nil {
		return nil, err
	}
	return a.createIntermediate(ctx, o, root, rootIss)
}

// EnsureDefault returns the default CA, creating a root and an issuing
// intermediate when the inventory holds no CA at all. Their records are
// named "default" and "default-root" (the fixed names make two instances
// starting together on one database create one CA, not two); their
// certificates carry a unique subject, the organisation and the UTC time
// (e.g. "CN=certkeeper-20261122-191300 Root CA"), so that trust stores
// tell one installation's root from another's.
func (a *Authority) EnsureDefault(ctx context.Context) (*inventory.CA, bool, error) {
	c, err := a.st.DefaultCA(ctx)
	if err == nil || !errors.Is(err, inventory.ErrNotFound) {
		return c, false, wrapStore(err)
	}
	all, err := a.st.ListCAs(ctx)
	if err != nil {
		return nil, false, wrapStore(err)
	}
	o := InitOptions{Name: "default", CommonName: defaultName(a.cfg.Organization, a.cfg.Now()),
		Organization: a.cfg.Organization, Default: true, Actor: "certkeeper"}
	switch {
	case len(all) == 1 && all[0].Name == "default-root":
		// A first start died between the root and the intermediate.
		c, err = a.resumeInit(ctx, o, &all[0])
	case len(all) > 0:
		return nil, false, errors.New("ca: no default CA: mark one with \"certkeeper ca default NAME\"")
	default:
		c, err = a.Init(ctx, o)
	}
	if err != nil {
		if again, err2 := a.st.DefaultCA(ctx); err2 == nil {
			return again, false, nil // another instance created it meanwhile
		}
		return nil, false, err
	}
	return c, true, nil
}

func wrapStore(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("ca: %w", err)
}

// interruptedRoot returns the root "NAME-root" that an Init of name left
// without its issuing CA (the process died between the two), or nil when
// there is none. A root of that name that signed another CA, or that is
// not a root, is not Init's to resume: the name is then taken.
func (a *Authority) interruptedRoot(ctx context.Context, name string) (*inventory.CA, error) {
	root, err := a.st.CAByName(ctx, name+"-root")
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, wrapStore(err)
	}
	all, err := a.st.ListCAs(ctx)
	if err != nil {
		return nil, wrapStore(err)
	}
	for _, c := range all {
		if c.ParentID == root.ID {
			return nil, fmt.Errorf("ca: a CA named %q exists", name+"-root")
		}
	}
	if root.ParentID != 0 || root.Status != inventory.CAActive || root.CertificateID == 0 {
		return nil, fmt.Errorf("ca: a CA named %q exists", name+"-root")
	}
	cert, err := a.st.GetCertificate(ctx, root.CertificateID)
	if err != nil {
		return nil, wrapStore(err)
	}
	if !cert.SelfSigned || !strings.HasSuffix(cert.CommonName, " Root CA") {
		return nil, fmt.Errorf("ca: a CA named %q exists", name+"-root") // not a root Init made
	}
	return root, nil
}

// resumeInit creates the issuing intermediate of o under a root left by
// an interrupted Init or first start (its common name taken from the
// root's), so that running the same init again, or starting again,
// finishes it.
func (a *Authority) resumeInit(ctx context.Context, o InitOptions, root *inventory.CA) (*inventory.CA, error) {
	rootIss, err := a.issuer(ctx, root.ID)
	if err != nil {
		return nil, err
	}
	o.CommonName = strings.TrimSuffix(rootIss.cert.Subject.CommonName, " Root CA")
	return a.createIntermediate(ctx, o, root, rootIss)
}

// nameFree refuses a CA name in use.
func (a *Authority) nameFree(ctx context.Context, name string) error {
	if name == "" || strings.ContainsAny(name, "\n\r\t/") {
		return fmt.Errorf("ca: invalid CA name %q", name)
	}
	_, err := a.st.CAByName(ctx, name)
	switch {
	case err == nil:
		return fmt.Errorf("ca: a CA named %q exists", name)
	case !errors.Is(err, inventory.ErrNotFound):
		return wrapStore(err)
	}
	return nil
}

// defaultName is the organisation in lower case with dashes, and the UTC
// time to the second.
func defaultName(org string, now time.Time) string {
	var b strings.Builder
	for _, r := range strings.ToLower(org) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.TrimSuffix(b.String(), "-") + "-" + now.UTC().Format("20060102-150405")
}

// caTemplate is a CA certificate (RFC 5280 sections 4.2.1.9 and 4.2.1.3).
func (a *Authority) caTemplate(cn, org string, pub crypto.PublicKey, life time.Duration, limit time.Time, pathLenZero bool) (*x509.Certificate, error) {
	serial, err := newSerial(a.cfg.Rand)
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	notBefore := a.cfg.Now().Add(-backdate).UTC().Truncate(time.Second)
	notAfter := notBefore.Add(life)
	if !limit.IsZero() && notAfter.After(limit) {
		notAfter = limit
	}
	return &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore: notBefore, NotAfter: notAfter, SubjectKeyId: ski,
		BasicConstraintsValid: true, IsCA: true, MaxPathLenZero: pathLenZero,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil
}

// createRoot makes, lints, signs and stores the self-signed root.
func (a *Authority) createRoot(ctx context.Context, o InitOptions) (*inventory.CA, *issuer, error) {
	spec := o.RootKey
	if spec == "" {
		spec = ECDSAP384
	}
	if spec != ECDSAP384 && spec != RSA4096 {
		return nil, nil, fmt.Errorf("ca: root key must be ecdsa-p384 or rsa-4096, not %q", spec)
	}
	key, err := generateKey(a.cfg.Rand, spec)
	if err != nil {
		return nil, nil, err
	}
	tmpl, err := a.caTemplate(first(o.CommonName, o.Name)+" Root CA", o.Organization, key.Public(), rootLife, time.Time{}, false)
	if err != nil {
		return nil, nil, err
	}
	tmpl.AuthorityKeyId = tmpl.SubjectKeyId // RFC 5280 4.2.1.1 allows it in a root; it eases path building
	s, err := newSigner(a.cfg.Rand, tmpl, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := a.signCA(s, tmpl, key.Public())
	if err != nil {
		return nil, nil, err
	}
	c := &inventory.CA{Name: o.Name + "-root", Status: inventory.CAActive}
	if err := a.storeCA(ctx, c, key, []*x509.Certificate{cert}, "ca.create", o.Actor); err != nil {
		return nil, nil, err
	}
	iss, err := newIssuer(a.cfg.Rand, *c, []*x509.Certificate{cert}, key)
	return c, iss, err
}

// createIntermediate makes the issuing CA under root.
func (a *Authority) createIntermediate(ctx context.Context, o InitOptions, root *inventory.CA, rootIss *issuer) (*inventory.CA, error) {
	key, err := generateKey(a.cfg.Rand, ECDSAP256)
	if err != nil {
		return nil, err
	}
	tmpl, err := a.caTemplate(first(o.CommonName, o.Name), o.Organization, key.Public(), interLife, rootIss.cert.NotAfter, true)
	if err != nil {
		return nil, err
	}
	constrain(tmpl, o.Policy)
	a.publish(tmpl, root.ID)
	cert, err := a.issueCA(ctx, root.ID, rootIss, tmpl, key, o)
	if err != nil {
		return nil, err
	}
	c := &inventory.CA{Name: o.Name, Status: inventory.CAActive, ParentID: root.ID, Policy: o.Policy, Default: o.Default}
	if err := a.defaultIfNone(ctx, c); err != nil {
		return nil, err
	}
	if err := a.storeCA(ctx, c, key, []*x509.Certificate{cert, rootIss.cert}, "ca.create", o.Actor); err != nil {
		return nil, err
	}
	return c, nil
}

// issueCA signs an intermediate under a root the way every certificate
// is issued: its serial reserved under the root before signing, the
// certificate, its key and an audit event recorded together afterwards, so
// the root's CRL and OCSP responder know it.
func (a *Authority) issueCA(ctx context.Context, rootID int64, root *issuer, tmpl *x509.Certificate, key crypto.Signer, o InitOptions) (*x509.Certificate, error) {
	serial := serialHex(tmpl.SerialNumber)
	if err := a.st.ReserveSerials(ctx, rootID, []string{serial}); err != nil {
		return nil, wrapStore(err)
	}
	cert, err := a.signCA(root.signer, tmpl, key.Public())
	if err != nil {
		return nil, err
	}
	k, err := keys.SealPrivateKey(a.sealer, key, a.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	_, err = a.st.RecordIssuances(ctx, []inventory.Issuance{{
		CAID: rootID, Certificate: inventory.NewCertificate(cert, "ca:"+o.Name), Key: k,
		Audit: &inventory.AuditEvent{Actor: o.Actor, Action: "ca.issue",
			Summary: fmt.Sprintf("intermediate CA certificate of %q, serial %s", o.Name, serial)},
	}})
	if err != nil {
		return nil, wrapStore(err)
	}
	return cert, nil
}

// signCA lints and signs a CA certificate.
func (a *Authority) signCA(s *signer, tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	l, err := s.lint(a.lints, lintSet{published: a.cfg.BaseURL != ""}, tmpl, pub)
	if err != nil {
		return nil, err
	}
	return s.sign(l)
}

// defaultIfNone marks c the default when no CA is.
func (a *Authority) defaultIfNone(ctx context.Context, c *inventory.CA) error {
	if c.Default {
		return nil
	}
	_, err := a.st.DefaultCA(ctx)
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		c.Default = true
	case err != nil:
		return wrapStore(err)
	}
	return nil
}

// storeCA seals and stores the CA key, its certificate and chain (certs,
// CA first), the CA record and an audit event.
func (a *Authority) storeCA(ctx context.Context, c *inventory.CA, key crypto.Signer, certs []*x509.Certificate, action, actor string) error {
	k, err := keys.SealPrivateKey(a.sealer, key, a.cfg.Now())
	if err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	return a.audited(ctx, actor, action, c, describe(certs), func(tx inventory.Store) error {
		var err error
		if c.KeyID, _, err = tx.PutKey(ctx, k); err != nil {
			return wrapStore(err)
		}
		if len(certs) > 0 {
			if c.CertificateID, err = putCerts(ctx, tx, c.Name, certs); err != nil {
				return err
			}
		}
		return wrapStore(tx.PutCA(ctx, c))
	})
}

// putCerts stores certs through st and returns the first one's ID.
func putCerts(ctx context.Context, st inventory.Store, name string, certs []*x509.Certificate) (int64, error) {
	recs := make([]*inventory.Certificate, len(certs))
	for i, x := range certs {
		recs[i] = inventory.NewCertificate(x, "ca:"+name)
	}
	res, err := st.PutCertificates(ctx, recs)
	if err != nil {
		return 0, wrapStore(err)
	}
	return res[0].ID, nil
}

func describe(certs []*x509.Certificate) string {
	if len(certs) == 0 {
		return "pending subordinate CA"
	}
	x := certs[0]
	return fmt.Sprintf("subject %q, serial %s, until %s", x.Subject.String(), serialHex(x.SerialNumber), x.NotAfter.UTC().Format(time.DateOnly))
}

// audited runs write, which stores a change to c, and then appends the
// audit event of action on c, in one transaction.
func (a *Authority) audited(ctx context.Context, actor, action string, c *inventory.CA, summary string,
	write func(tx inventory.Store) error) error {
	return a.st.InTx(ctx, func(tx inventory.Store) error {
		if err := write(tx); err != nil {
			return err
		}
		e := &inventory.AuditEvent{Actor: actor, Action: action, Object: inventory.ObjectRef(inventory.KindCA, c.ID),
			Summary: inventory.NamedSummary(c.Name, summary)}
		return wrapStore(tx.AppendAudit(ctx, e))
	})
}

// update stores c and the audit event of action on it, in one
// transaction, and forgets the loaded copy of c.
func (a *Authority) update(ctx context.Context, actor, action string, c *inventory.CA, summary string) error {
	err := a.audited(ctx, actor, action, c, summary, func(tx inventory.Store) error { return wrapStore(tx.UpdateCA(ctx, c)) })
	a.forget(c.ID)
	return err
}

// SetDefault makes the active CA named name the default CA.
func (a *Authority) SetDefault(ctx context.Context, name, actor string) (*inventory.CA, error) {
	c, err := a.queryCA(ctx, name)
	if err != nil {
		return nil, err
	}
	if c.Status != inventory.CAActive {
		return nil, fmt.Errorf("ca: %s is %s; only an active CA can be the default", c.Name, c.Status)
	}
	c.Default = true
	if err := a.update(ctx, actor, "ca.default", c, "made the default CA"); err != nil {
		return nil, err
	}
	return c, nil
}

// first returns the first non-empty string.
func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
