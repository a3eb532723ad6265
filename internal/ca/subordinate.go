package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// initSubordinate creates a pending CA: an ECDSA P-256 key (or RootKey's
// type when given) and a certificate request for an outside PKI.
func (a *Authority) initSubordinate(ctx context.Context, o InitOptions) (*inventory.CA, error) {
	key, err := generateKey(a.cfg.Rand, o.RootKey)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: o.Name, Organization: []string{o.Organization}}}
	der, err := x509.CreateCertificateRequest(a.cfg.Rand, tmpl, key)
	if err != nil {
		return nil, fmt.Errorf("ca: certificate request: %w", err)
	}
	spki, err := inventory.SPKIHash(key.Public())
	if err != nil {
		return nil, err
	}
	k, err := keys.SealPrivateKey(a.sealer, key, a.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	c := &inventory.CA{Name: o.Name, Status: inventory.CAPending, Policy: o.Policy, Default: o.Default}
	err = a.audited(ctx, o.Actor, "ca.create-subordinate", c, "certificate request written; pending activation",
		func(tx inventory.Store) error {
			var err error
			if c.KeyID, _, err = tx.PutKey(ctx, k); err != nil {
				return wrapStore(err)
			}
			csr := &inventory.CSR{Subject: tmpl.Subject.String(), SPKISHA256: spki, KeyID: c.KeyID, DER: der}
			if c.CSRID, err = tx.PutCSR(ctx, csr); err != nil {
				return wrapStore(err)
			}
			return wrapStore(tx.PutCA(ctx, c))
		})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Activate completes a pending subordinate CA with the certificate the
// outside PKI signed. certs holds that certificate and, optionally, its
// chain; roots are further trusted roots (the chain's root may be in
// either). It checks that the certificate certifies the CA's key, is a CA
// certificate allowed to sign certificates (RFC 5280 sections 4.2.1.9 and
// 4.2.1.3) and verifies to a root, then stores the chain and activates
// the CA.
func (a *Authority) Activate(ctx context.Context, name string, certs, roots []*x509.Certificate, actor string) (*inventory.CA, error) {
	c, err := a.lookupCA(ctx, name)
	if err != nil {
		return nil, err
	}
	if c.Status != inventory.CAPending {
		return nil, fmt.Errorf("ca: %s is %s, not pending", c.Name, c.Status)
	}
	k, err := a.st.GetKey(ctx, c.KeyID)
	if err != nil {
		return nil, wrapStore(err)
	}
	caCert, rest, err := certForKey(certs, k.SPKISHA256)
	if err != nil {
		return nil, fmt.Errorf("ca: activate %s: %w", c.Name, err)
	}
	if err := checkCACert(caCert, a.cfg.Now()); err != nil {
		return nil, fmt.Errorf("ca: activate %s: %w", c.Name, err)
	}
	chain, err := verifyPath(caCert, append(rest, roots...), a.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("ca: activate %s: %w", c.Name, err)
	}
	c.Status = inventory.CAActive
	if err := a.defaultIfNone(ctx, c); err != nil {
		return nil, err
	}
	err = a.audited(ctx, actor, "ca.activate", c, describe(chain), func(tx inventory.Store) error {
		var err error
		if c.CertificateID, err = putCerts(ctx, tx, c.Name, chain); err != nil {
			return err
		}
		return wrapStore(tx.UpdateCA(ctx, c))
	})
	a.forget(c.ID)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// certForKey finds the certificate for the public key with hash spki.
func certForKey(certs []*x509.Certificate, spki string) (*x509.Certificate, []*x509.Certificate, error) {
	for i, x := range certs {
		if inventory.SHA256Hex(x.RawSubjectPublicKeyInfo) == spki {
			rest := append(append([]*x509.Certificate(nil), certs[:i]...), certs[i+1:]...)
			return x, rest, nil
		}
	}
	return nil, nil, errors.New("no certificate matches the CA's key")
}

// checkCACert refuses a certificate that may not act as a CA now.
func checkCACert(x *x509.Certificate, now time.Time) error {
	if !x.BasicConstraintsValid || !x.IsCA {
		return fmt.Errorf("%q is not a CA certificate (basicConstraints CA:TRUE missing)", x.Subject.CommonName)
	}
	if x.KeyUsage != 0 && x.KeyUsage&x509.KeyUsageCertSign == 0 {
		return fmt.Errorf("%q may not sign certificates (keyUsage lacks keyCertSign)", x.Subject.CommonName)
	}
	if now.After(x.NotAfter) || now.Before(x.NotBefore) {
		return fmt.Errorf("%q is not valid now (%s to %s)", x.Subject.CommonName,
			x.NotBefore.UTC().Format(time.DateOnly), x.NotAfter.UTC().Format(time.DateOnly))
	}
	return nil
}

// verifyPath verifies leaf to a self-signed certificate among others and
// returns the path, leaf first.
func verifyPath(leaf *x509.Certificate, others []*x509.Certificate, now time.Time) ([]*x509.Certificate, error) {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	haveRoot := false
	for _, x := range others {
		if bytes.Equal(x.RawSubject, x.RawIssuer) && x.CheckSignatureFrom(x) == nil {
			roots.AddCert(x)
			haveRoot = true
		} else {
			inter.AddCert(x)
		}
	}
	if !haveRoot {
		return nil, errors.New("no root certificate given: add the chain to the file or give --chain")
	}
	paths, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, fmt.Errorf("certificate does not verify to the given roots: %w", err)
	}
	return paths[0], nil
}

// ImportOptions describes an existing CA to import.
type ImportOptions struct {
	// Name names the CA; "" means its certificate's common name.
	Name string
	// Cert is the CA certificate; Chain its issuers, when known.
	Cert  *x509.Certificate
	Chain []*x509.Certificate
	// Key is the CA's private key; it must match Cert.
	Key    crypto.Signer
	Policy inventory.NamePolicy
	// Default makes it the default CA (the first CA is anyway).
	Default bool
	Actor   string
}

// Import adds an existing CA (for example a ca.crt/ca.key pair made with
// openssl) after checking that its certificate is a CA certificate valid
// now and that the key matches it.
func (a *Authority) Import(ctx context.Context, o ImportOptions) (*inventory.CA, error) {
	if o.Cert == nil || o.Key == nil {
		return nil, errors.New("ca: import needs a CA certificate and its private key")
	}
	if o.Name == "" {
		o.Name = o.Cert.Subject.CommonName
	}
	if err := checkCACert(o.Cert, a.cfg.Now()); err != nil {
		return nil, fmt.Errorf("ca: import: %w", err)
	}
	spki, err := inventory.SPKIHash(o.Key.Public())
	if err != nil || spki != inventory.SHA256Hex(o.Cert.RawSubjectPublicKeyInfo) {
		return nil, errors.New("ca: import: the private key does not match the CA certificate")
	}
	if err := ValidatePolicy(o.Policy); err != nil {
		return nil, err
	}
	if err := a.nameFree(ctx, o.Name); err != nil {
		return nil, err
	}
	if err := a.notImported(ctx, o.Cert); err != nil {
		return nil, err
	}
	c := &inventory.CA{Name: o.Name, Status: inventory.CAActive, Policy: o.Policy, Default: o.Default}
	if err := a.defaultIfNone(ctx, c); err != nil {
		return nil, err
	}
	certs := append([]*x509.Certificate{o.Cert}, o.Chain...)
	if err := a.storeCA(ctx, c, o.Key, certs, "ca.import", o.Actor); err != nil {
		return nil, err
	}
	return c, nil
}

// notImported refuses a CA certificate that is already the certificate of
// one of the inventory's CAs: one CA under two names would sign with one
// key under two policies.
func (a *Authority) notImported(ctx context.Context, cert *x509.Certificate) error {
	rec, err := a.st.CertificateBySHA256(ctx, inventory.SHA256Hex(cert.Raw))
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		return nil
	case err != nil:
		return wrapStore(err)
	}
	all, err := a.st.ListCAs(ctx)
	if err != nil {
		return wrapStore(err)
	}
	for _, c := range all {
		if c.CertificateID == rec.ID {
			return fmt.Errorf("ca: this CA certificate is already imported as CA %q", c.Name)
		}
	}
	return nil
}
