package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/probe"
)

// MinInterval is the shortest interval between checks of one endpoint.
const MinInterval = time.Minute

// AddRequest describes an endpoint to monitor.
type AddRequest struct {
	// Address is HOST:PORT.
	Address string
	// ServerName is the SNI sent; "" means the host.
	ServerName string
	// StartTLS is a probe.StartTLS protocol name, "auto", or "".
	StartTLS string
	// ClientCertificateID is presented to servers that demand mutual
	// TLS; it must have its key in the inventory. 0 means none.
	ClientCertificateID int64
	// Interval is the time between checks, at least MinInterval; 0 means
	// daily at the monitoring time.
	Interval time.Duration
	// CertificateID or DefinitionID (at most one) names what the endpoint
	// should serve; neither makes a standalone endpoint that expects no
	// particular certificate.
	CertificateID int64
	DefinitionID  int64
	Labels        []string
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("monitor: %w", inventory.Invalid(field, format, args...))
}

// Add validates r and stores the endpoint, due at once; the change is
// audited. A duplicate gives inventory.ErrConflict.
func (s *Service) Add(ctx context.Context, actor string, r AddRequest) (*inventory.Endpoint, error) {
	e, err := s.endpointOf(ctx, r)
	if err != nil {
		return nil, err
	}
	e.CreatedAt = s.c.Now().UTC()
	e.NextCheckAt = e.CreatedAt
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutEndpoint(ctx, e); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "endpoint.add", e.ID, describe(e))
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// describe is the audit summary of an endpoint.
func describe(e *inventory.Endpoint) string {
	d := e.Address
	if e.ServerName != "" {
		d += " (" + e.ServerName + ")"
	}
	if e.StartTLS != "" {
		d += " STARTTLS " + e.StartTLS
	}
	d += "; " + e.Source
	if e.SourceID != 0 {
		d += " " + strconv.FormatInt(e.SourceID, 10)
	}
	return d
}

// endpointOf validates r into an endpoint.
func (s *Service) endpointOf(ctx context.Context, r AddRequest) (*inventory.Endpoint, error) {
	addr, err := checkAddress(r.Address)
	if err != nil {
		return nil, err
	}
	e := &inventory.Endpoint{Address: addr, ServerName: strings.TrimSpace(r.ServerName),
		ClientCertificateID: r.ClientCertificateID, Interval: r.Interval, Source: inventory.EndpointManual}
	if e.ServerName != "" && !validName(e.ServerName) {
		return nil, invalid("servername", "%q is not a DNS name", e.ServerName)
	}
	st, err := probe.ParseStartTLS(strings.TrimSpace(r.StartTLS))
	if err != nil {
		return nil, invalid("starttls", "%s", err.Error())
	}
	e.StartTLS = string(st)
	if r.Interval != 0 && r.Interval < MinInterval {
		return nil, invalid("interval", "the interval must be at least %v (or 0 for daily)", MinInterval)
	}
	if e.Labels, err = checkLabels(r.Labels); err != nil {
		return nil, err
	}
	if err := s.checkClientCertificate(ctx, r.ClientCertificateID); err != nil {
		return nil, err
	}
	return e, s.setSource(ctx, e, r)
}

// checkAddress accepts HOST:PORT with a port from 1 to 65535.
func checkAddress(a string) (string, error) {
	a = strings.TrimSpace(a)
	host, port, err := net.SplitHostPort(a)
	if err != nil || !validHost(host) {
		return "", invalid("address", "%q is not HOST:PORT (for example www.example.com:443)", a)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", invalid("address", "port %q is not a number from 1 to 65535", port)
	}
	return net.JoinHostPort(strings.ToLower(host), port), nil
}

// validHost accepts an IP literal (an IPv6 zone included) or a DNS
// name: no spaces, control characters or other text a dial would read
// differently from what is stored.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	return h != "" && validName(h)
}

// validName accepts a DNS name (letters, digits, hyphens, dots; a
// leading "*." is refused: a server name is a host).
func validName(n string) bool {
	if len(n) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(n, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func checkLabels(in []string) ([]string, error) {
	var out []string
	for _, l := range in {
		l = strings.TrimSpace(l)
		switch {
		case l == "":
			continue
		case len(l) > 64 || strings.ContainsAny(l, " \t\r\n,"):
			return nil, invalid("label", "%q is not a label (at most 64 characters, no spaces or commas)", l)
		}
		out = append(out, l)
	}
	return out, nil
}

// checkClientCertificate refuses a client certificate that is unknown
// or has no key in the inventory.
func (s *Service) checkClientCertificate(ctx context.Context, id int64) error {
	if id == 0 {
		return nil
	}
	c, err := s.store.GetCertificate(ctx, id)
	if errors.Is(err, inventory.ErrNotFound) {
		return invalid("client_certificate_id", "certificate %d does not exist", id)
	}
	if err != nil {
		return err
	}
	if c.KeyID == 0 {
		return invalid("client_certificate_id", "certificate %d has no private key in the inventory", id)
	}
	return nil
}

// setSource makes e a certificate's or definition's endpoint when r
// names one that exists.
func (s *Service) setSource(ctx context.Context, e *inventory.Endpoint, r AddRequest) error {
	switch {
	case r.CertificateID != 0 && r.DefinitionID != 0:
		return invalid("certificate_id", "name a certificate or a definition, not both")
	case r.CertificateID != 0:
		if _, err := s.store.GetCertificate(ctx, r.CertificateID); errors.Is(err, inventory.ErrNotFound) {
			return invalid("certificate_id", "certificate %d does not exist", r.CertificateID)
		} else if err != nil {
			return err
		}
		e.Source, e.SourceID = inventory.EndpointCertificate, r.CertificateID
	case r.DefinitionID != 0:
		if _, err := s.store.GetDefinition(ctx, r.DefinitionID); errors.Is(err, inventory.ErrNotFound) {
			return invalid("definition_id", "definition %d does not exist", r.DefinitionID)
		} else if err != nil {
			return err
		}
		e.Source, e.SourceID = inventory.EndpointDefinition, r.DefinitionID
	}
	return nil
}

// Remove stops monitoring an endpoint and drops its history; the
// endpoints of deployments follow their deployment and cannot be
// removed (inventory.ErrState).
func (s *Service) Remove(ctx context.Context, actor string, id int64) error {
	return s.store.InTx(ctx, func(tx inventory.Store) error {
		e, err := tx.GetEndpoint(ctx, id)
		if err != nil {
			return fmt.Errorf("monitor: endpoint %d: %w", id, err)
		}
		if e.Source == inventory.EndpointDeployment {
			return fmt.Errorf("monitor: endpoint %d follows deployment %d and goes when the deployment is no longer confirmed "+
				"or its target has no server name for check: %w", id, e.SourceID, inventory.ErrState)
		}
		if err := tx.DeleteEndpoint(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, "endpoint.remove", id, describe(e))
	})
}

// Get returns one endpoint with its latest result.
func (s *Service) Get(ctx context.Context, id int64) (*inventory.Endpoint, error) {
	e, err := s.store.GetEndpoint(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("monitor: endpoint %d: %w", id, err)
	}
	return e, nil
}

// History returns a page of an endpoint's results, newest first.
func (s *Service) History(ctx context.Context, id int64, p inventory.Page) ([]inventory.EndpointResult, string, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, "", err
	}
	return s.store.EndpointHistory(ctx, id, p)
}

// Filter selects endpoints in List. The zero value selects all.
type Filter struct {
	// Status is "ok", "warning", "failed" or "pending"
	// (inventory.EndpointResult.Status).
	Status string
	// Source is one of the inventory.Endpoint* sources.
	Source string
	// Text keeps endpoints whose address, server name or labels contain
	// it (case-insensitive).
	Text string
}

// List returns the endpoints f selects, in ID order.
func (s *Service) List(ctx context.Context, f Filter) ([]inventory.Endpoint, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	all, err := s.store.AllEndpoints(ctx)
	if err != nil {
		return nil, err
	}
	out := []inventory.Endpoint{}
	for _, e := range all {
		if f.keeps(&e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f Filter) check() error {
	switch f.Status {
	case "", "ok", "warning", "failed", "pending":
	default:
		return invalid("status", "status %q is not ok, warning, failed or pending", f.Status)
	}
	switch f.Source {
	case "", inventory.EndpointDeployment, inventory.EndpointCertificate, inventory.EndpointDefinition, inventory.EndpointManual:
		return nil
	}
	return invalid("source", "source %q is not deployment, certificate, definition or manual", f.Source)
}

func (f Filter) keeps(e *inventory.Endpoint) bool {
	if f.Status != "" && e.Last.Status() != f.Status || f.Source != "" && e.Source != f.Source {
		return false
	}
	if f.Text == "" {
		return true
	}
	q := strings.ToLower(f.Text)
	hay := strings.ToLower(e.Address + " " + e.ServerName + " " + strings.Join(e.Labels, " "))
	return strings.Contains(hay, q)
}
