package acquisition

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Issue has the built-in CA of the process's issuer sign its request
// for by, registers the certificate and, with AutoSwitch, makes it
// current. A request outside by's issuance policy is refused with the
// CA's *ca.PolicyError; when the CA asks for approval instead, the
// process moves to pending_approval and Issue returns it without a
// certificate.
func (s *Service) Issue(ctx context.Context, by ca.Requester, id int64) (*Validation, error) {
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
	r, err := s.caRequest(ctx, by, p)
	if err != nil {
		return nil, err
	}
	issued, err := s.issuer.Issue(ctx, *r)
	var pe *ca.PolicyError
	if errors.As(err, &pe) && pe.Approvable {
		return s.holdForApproval(ctx, by, a, pe)
	}
	if err != nil {
		return nil, fmt.Errorf("acquisition: process %d: %w", a.ID, err)
	}
	return s.registerIssued(ctx, by.Name, p, r, issued, nil, s.step(by.Name, "issued", issuedDetail(issued, r)))
}

// registerIssued records the certificate the CA issued for p with steps,
// and the audit events after (see register).
func (s *Service) registerIssued(ctx context.Context, actor string, p *Process, r *ca.Request, issued *ca.Issued,
	after []event, steps ...inventory.AcquisitionStep) (*Validation, error) {
	a := &p.Acquisition
	a.CertificateID = issued.Record.ID
	a.Differences = differences(wanted(p.Definition), certNames(issued.Certificate))
	v := &Validation{Chain: append([]*x509.Certificate{issued.Certificate}, issued.Chain...)}
	return s.register(ctx, actor, a, "acquisition.issue", v, after, steps...)
}

func issuedDetail(issued *ca.Issued, r *ca.Request) string {
	return fmt.Sprintf("%s by CA %s", describe(issued.Certificate), r.CA)
}

// caRequest asks the issuer's CA for the definition's names on behalf of
// by, signing the process's request.
func (s *Service) caRequest(ctx context.Context, by ca.Requester, p *Process) (*ca.Request, error) {
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
		CSR: csr, Requester: by}, nil
}

// register records a's new certificate (CertificateID, Differences set)
// with steps, moving a to issued, or on to completed with AutoSwitch; it
// audits that as action, with the last step's detail, then the events
// after, all in one transaction, and fills in v.
func (s *Service) register(ctx context.Context, actor string, a *inventory.Acquisition, action string, v *Validation,
	after []event, steps ...inventory.AcquisitionStep) (*Validation, error) {
	a.State = inventory.StateIssued
	events := []event{{actor, action, steps[len(steps)-1].Detail}}
	write := func(tx inventory.Store) error { return tx.UpdateAcquisition(ctx, a, steps...) }
	if a.AutoSwitch {
		a.State = inventory.StateCompleted
		steps = append(steps, s.step(actor, "switched", switched(a)))
		write = func(tx inventory.Store) error { return tx.SwitchCurrent(ctx, a, steps...) }
		events = append(events, event{actor, "acquisition.switch", switched(a) + " (auto-switch)"})
	}
	err := s.record(ctx, a, write, append(events, after...)...)
	if err != nil {
		return nil, err
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
