package acquisition

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Limits on an upload besides MaxUploadSize.
const (
	// MaxIntermediateFiles caps Upload.Intermediates.
	MaxIntermediateFiles = 10
	// MaxPasswordLength caps Upload.Password.
	MaxPasswordLength = 1024
)

// Upload validates a certificate received for a vendor process and
// registers it: it must certify the process's key, its chain must reach a
// root of the trust store (Config.Trust) through the uploaded
// intermediates and the inventory's CA certificates; name differences are
// reported, not refused. A refused upload changes nothing.
func (s *Service) Upload(ctx context.Context, actor string, id int64, u Upload) (*Validation, error) {
	if err := checkUpload(u); err != nil {
		return nil, err
	}
	p, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	a := &p.Acquisition
	if err := s.uploadAllowed(p); err != nil {
		return nil, err
	}
	certs, err := decodeUpload(u)
	if err != nil {
		return nil, err
	}
	leaf, chain, err := s.validate(ctx, a, certs)
	if err != nil {
		return nil, err
	}
	if a.CertificateID, err = s.putChain(ctx, a, chain); err != nil {
		return nil, err
	}
	a.Differences = differences(wanted(p.Definition), certNames(leaf))
	detail := fmt.Sprintf("%s, issued by %q", describe(leaf), leaf.Issuer.CommonName)
	return s.register(ctx, actor, a, "acquisition.upload", &Validation{Chain: chain}, nil,
		s.step(actor, "certificate_uploaded", detail))
}

// checkUpload refuses empty and oversized input.
func checkUpload(u Upload) error {
	switch {
	case len(u.Data) == 0:
		return inventory.Invalid("data", "is empty; upload the certificate file")
	case len(u.Data) > MaxUploadSize:
		return inventory.Invalid("data", "is %d bytes; the limit is %d", len(u.Data), MaxUploadSize)
	case len(u.Password) > MaxPasswordLength:
		return inventory.Invalid("password", "is longer than %d characters", MaxPasswordLength)
	case len(u.Intermediates) > MaxIntermediateFiles:
		return inventory.Invalid("intermediates", "%d files; the limit is %d", len(u.Intermediates), MaxIntermediateFiles)
	}
	for k, f := range u.Intermediates {
		if len(f) == 0 || len(f) > MaxUploadSize {
			return inventory.Invalid("intermediates", "file %d is %d bytes; want 1 to %d", k+1, len(f), MaxUploadSize)
		}
	}
	return nil
}

// uploadAllowed refuses processes that await no vendor certificate.
func (s *Service) uploadAllowed(p *Process) error {
	a := &p.Acquisition
	err := requireState(a, "processes in csr_ready or ordered can receive a certificate",
		inventory.StateCSRReady, inventory.StateOrdered)
	if err == nil && p.Issuer.Kind != inventory.IssuerManualVendor {
		err = stateError(a, "issuer %s is a built-in CA: issue the certificate instead", p.Issuer.Name)
	}
	return err
}

// decodeUpload returns every certificate of the upload's files. A private
// key in them is dropped.
func decodeUpload(u Upload) ([]*x509.Certificate, error) {
	b, err := format.Decode(u.Data, []byte(u.Password))
	if err != nil {
		return nil, decodeError("data", err)
	}
	certs := slices.Concat(b.Chain, b.Others)
	if len(certs) == 0 {
		return nil, inventory.Invalid("data", "holds no certificate")
	}
	for k, f := range u.Intermediates {
		b, err := format.Decode(f, []byte(u.Password))
		if err != nil {
			return nil, decodeError("intermediates", fmt.Errorf("file %d: %w", k+1, err))
		}
		certs = slices.Concat(certs, b.Chain, b.Others)
	}
	return certs, nil
}

// decodeError makes a decoding failure a field error; format's messages
// never hold a password or key material.
func decodeError(field string, err error) error {
	switch {
	case errors.Is(err, format.ErrPasswordNeeded):
		return inventory.Invalid("password", "the file is protected; give its password")
	case errors.Is(err, format.ErrWrongPassword):
		return inventory.Invalid("password", "wrong password, or the file is damaged")
	}
	return inventory.Invalid(field, "%v", err)
}

// putChain registers the verified chain, leaf first, and returns the
// leaf's ID.
func (s *Service) putChain(ctx context.Context, a *inventory.Acquisition, chain []*x509.Certificate) (int64, error) {
	recs := make([]*inventory.Certificate, len(chain))
	for k, c := range chain {
		recs[k] = inventory.NewCertificate(c, object(a.ID))
	}
	res, err := s.st.PutCertificates(ctx, recs)
	if err != nil {
		return 0, fmt.Errorf("acquisition: process %d: register certificates: %w", a.ID, err)
	}
	return res[0].ID, nil
}
