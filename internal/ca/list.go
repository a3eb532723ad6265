package ca

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Listed is a CA with its certificate.
type Listed struct {
	CA inventory.CA
	// Certificate is the CA's certificate; nil while the CA is pending.
	Certificate *inventory.Certificate
}

// List returns every CA with its certificate, in the store's order.
func (a *Authority) List(ctx context.Context) ([]Listed, error) {
	cas, err := a.st.ListCAs(ctx)
	if err != nil && !errors.Is(err, inventory.ErrNotFound) {
		return nil, err
	}
	out := make([]Listed, len(cas))
	for i, c := range cas {
		out[i].CA = c
		if c.CertificateID == 0 {
			continue
		}
		if out[i].Certificate, err = a.st.GetCertificate(ctx, c.CertificateID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Named returns the CA called name, or the default CA when name is "".
// A missing CA gives an error wrapping inventory.ErrNotFound.
func (a *Authority) Named(ctx context.Context, name string) (*inventory.CA, error) {
	if name == "" {
		return a.st.DefaultCA(ctx)
	}
	return a.st.CAByName(ctx, name)
}

// NamedChain returns the CA called name (the default CA when name is "")
// and its chain, the CA's own certificate first and the root last. A
// missing CA gives a nil CA and an error wrapping inventory.ErrNotFound;
// a CA without a certificate a NoCertificateError.
func (a *Authority) NamedChain(ctx context.Context, name string) (*inventory.CA, []*x509.Certificate, error) {
	c, err := a.Named(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	chain, err := a.Chain(ctx, c.ID)
	if err == nil && len(chain) == 0 {
		err = &NoCertificateError{CA: c.Name}
	}
	return c, chain, err
}

// NoCertificateError says a CA has no certificate yet.
type NoCertificateError struct{ CA string }

func (e *NoCertificateError) Error() string {
	return fmt.Sprintf("ca: %s has no certificate yet", e.CA)
}

// RequestPEM returns the certificate request of a pending subordinate CA
// as PEM.
func (a *Authority) RequestPEM(ctx context.Context, c *inventory.CA) ([]byte, error) {
	csr, err := a.st.GetCSR(ctx, c.CSRID)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr.DER}), nil
}
