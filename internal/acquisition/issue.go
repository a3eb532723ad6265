package acquisition

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Issue has the built-in CA of the process's issuer sign its request,
// registers the certificate and, with AutoSwitch, makes it current.
func (s *Service) Issue(ctx context.Context, actor string, id int64) (*Validation, error) {
	p, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	a := &p.Acquisition
	if err := requireState(a, "processes in csr_ready can be issued", inventory.StateCSRReady); err != nil {
		return nil, err
	}
	if p.Issuer.Kind != inventory.IssuerBuiltinCA {
		return nil, stateError(a, "issuer %s is a vendor: record the order and upload the certificate", p.Issuer.Name)
	}
	r, err := s.caRequest(ctx, actor, p)
	if err != nil {
		return nil, err
	}
	issued, err := s.issuer.Issue(ctx, *r)
	if err != nil {
		return nil, fmt.Errorf("acquisition: process %d: %w", a.ID, err)
	}
	a.CertificateID = issued.Record.ID
	a.Differences = differences(wanted(p.Definition), certNames(issued.Certificate))
	detail := fmt.Sprintf("%s by CA %s", describe(issued.Certificate), r.CA)
	v := &Validation{Chain: append([]*x509.Certificate{issued.Certificate}, issued.Chain...)}
	return s.register(ctx, actor, a, s.step(actor, "issued", detail), "acquisition.issue", v)
}

// caRequest asks the issuer's CA for the definition's names, signing the
// process's request.
func (s *Service) caRequest(ctx context.Context, actor string, p *Process) (*ca.Request, error) {
	c, err := s.st.GetCA(ctx, p.Issuer.CAID)
	if err != nil {
		return nil, fmt.Errorf("acquisition: issuer %s: CA: %w", p.Issuer.Name, err)
	}
	csr, err := s.request(ctx, &p.Acquisition)
	if err != nil {
		return nil, err
	}
	n := wanted(p.Definition)
	return &ca.Request{CA: c.Name, Profile: ca.TLSServer, CommonName: n.all()[0], DNSNames: n.dns,
		IPAddresses: n.ips, Validity: time.Duration(p.Definition.Requirements.ValidityDays) * 24 * time.Hour,
		CSR: csr, Actor: actor}, nil
}

// register records a's new certificate (CertificateID, Differences set)
// with step st, moving a to issued, or on to completed with AutoSwitch;
// it audits that as action and fills in v.
func (s *Service) register(ctx context.Context, actor string, a *inventory.Acquisition, st inventory.AcquisitionStep,
	action string, v *Validation) (*Validation, error) {
	a.State = inventory.StateIssued
	var err error
	if a.AutoSwitch {
		err = s.complete(ctx, a, st, s.step(actor, "switched", switched(a)))
	} else {
		err = s.update(ctx, a, st)
	}
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, actor, action, a.ID, st.Detail); err != nil {
		return nil, err
	}
	if a.AutoSwitch {
		if err := s.audit(ctx, actor, "acquisition.switch", a.ID, switched(a)+" (auto-switch)"); err != nil {
			return nil, err
		}
	}
	v.Acquisition, v.Differences, v.Switched = a, a.Differences, a.AutoSwitch
	if v.Certificate, err = s.st.GetCertificate(ctx, a.CertificateID); err != nil {
		return nil, err
	}
	return v, nil
}

// describe says which certificate c is, in one line.
func describe(c *x509.Certificate) string {
	return fmt.Sprintf("certificate serial %x for %s, valid until %s", c.SerialNumber, joinNames(certNames(c)),
		c.NotAfter.UTC().Format(time.DateOnly))
}

func switched(a *inventory.Acquisition) string {
	return fmt.Sprintf("certificate %d made the definition's current certificate", a.CertificateID)
}
