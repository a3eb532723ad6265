package acquisition

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// CSR returns the process's request in PEM and records that it was
// downloaded.
func (s *Service) CSR(ctx context.Context, actor string, id int64) ([]byte, error) {
	a, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := s.st.GetCSR(ctx, a.CSRID)
	if err != nil {
		return nil, fmt.Errorf("acquisition: process %d: request: %w", a.ID, err)
	}
	detail := fmt.Sprintf("request %d downloaded", c.ID)
	if err := s.updateAudited(ctx, a, event{actor, "acquisition.csr_download", detail}, s.step(actor, "csr_downloaded", detail)); err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: c.DER}), nil
}

// request reads and parses the process's request.
func (s *Service) request(ctx context.Context, a *inventory.Acquisition) (*x509.CertificateRequest, error) {
	c, err := s.st.GetCSR(ctx, a.CSRID)
	if err != nil {
		return nil, fmt.Errorf("acquisition: process %d: request: %w", a.ID, err)
	}
	req, err := x509.ParseCertificateRequest(c.DER)
	if err != nil {
		return nil, fmt.Errorf("acquisition: process %d: request %d: %w", a.ID, c.ID, err)
	}
	return req, nil
}
