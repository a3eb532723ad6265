package monitor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/certkeeper/certkeeper/internal/bundle"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// expectedCertificate is the ID of the certificate e should serve: its
// deployment's, its certificate, or its definition's current one; 0 for
// a standalone endpoint or a definition without a current certificate.
func (s *Service) expectedCertificate(ctx context.Context, e *inventory.Endpoint) (int64, error) {
	switch e.Source {
	case inventory.EndpointDeployment:
		d, err := s.store.GetDeployment(ctx, e.SourceID)
		if err != nil {
			return 0, fmt.Errorf("deployment %d: %w", e.SourceID, err)
		}
		return d.CertificateID, nil
	case inventory.EndpointCertificate:
		return e.SourceID, nil
	case inventory.EndpointDefinition:
		d, err := s.store.GetDefinition(ctx, e.SourceID)
		if err != nil {
			return 0, fmt.Errorf("definition %d: %w", e.SourceID, err)
		}
		return d.CurrentCertificateID, nil
	}
	return 0, nil
}

// run is what the checks of one pass (or RunNow) share, read once at
// its start rather than per endpoint: the roots a served chain must
// verify to, and the expectation of each certificate checked for. A
// root marked or removed during a pass applies from the next.
type run struct {
	// roots is the pool of trusted roots; rootsErr, when set, says why
	// the trust store could not be read, and fails every check.
	roots    *x509.CertPool
	rootsErr error

	mu    sync.Mutex
	wants map[int64]wantOf // by expected certificate ID
}

type wantOf struct {
	w   engine.Want
	err error
}

// newRun reads what the checks of a run share.
func (s *Service) newRun(ctx context.Context) *run {
	rn := &run{wants: map[int64]wantOf{}}
	j := engine.Job{}
	if s.c.Trust != nil {
		a, err := s.c.Trust.Anchors(ctx)
		if err != nil {
			rn.rootsErr = fmt.Errorf("trust store: %w", err)
			return rn
		}
		j.Roots, j.NoSystemRoots = chainPEM(a.Certificates()), !a.SystemRoots
	}
	w, err := j.Want()
	rn.roots, rn.rootsErr = w.Roots, err
	return rn
}

// want is what a check of an endpoint expecting certificate certID (0
// for none) expects: that certificate with its intermediates, verifying
// to the run's roots. It is built once per certificate and run.
func (rn *run) want(ctx context.Context, s *Service, certID int64) (engine.Want, error) {
	if rn.rootsErr != nil {
		return engine.Want{}, rn.rootsErr
	}
	rn.mu.Lock()
	got, ok := rn.wants[certID]
	rn.mu.Unlock()
	if ok {
		return got.w, got.err
	}
	w, err := s.certificateWant(ctx, certID)
	w.Roots = rn.roots
	rn.mu.Lock()
	rn.wants[certID] = wantOf{w: w, err: err}
	rn.mu.Unlock()
	return w, err
}

// certificateWant is the expectation of certificate certID (none for 0)
// and its intermediates, without roots.
func (s *Service) certificateWant(ctx context.Context, certID int64) (engine.Want, error) {
	j := engine.Job{NoSystemRoots: true}
	if certID == 0 {
		return j.Want()
	}
	b, err := bundle.Certificates(ctx, s.store, certID)
	if err != nil {
		return engine.Want{}, err
	}
	j.ExpectedSHA256, j.Chain = inventory.SHA256Hex(b.Chain[0].Raw), chainPEM(b.Chain[1:])
	w, err := j.Want()
	w.Leaf = b.Chain[0]
	return w, err
}

func chainPEM(certs []*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// clientCertificate loads certificate id with its chain and key as a TLS
// client certificate; nil for id 0.
func (s *Service) clientCertificate(ctx context.Context, id int64) (*tls.Certificate, error) {
	if id == 0 {
		return nil, nil
	}
	cert, err := s.store.GetCertificate(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("client certificate %d: %w", id, err)
	}
	b, keyID, err := bundle.Load(ctx, s.store, s.c.Sealer, cert, true)
	if err != nil {
		return nil, fmt.Errorf("client certificate %d: %w", id, err)
	}
	if keyID == 0 || !b.KeyMatchesLeaf {
		return nil, fmt.Errorf("client certificate %d has no usable key in the inventory", id)
	}
	tc := &tls.Certificate{PrivateKey: b.Key, Leaf: b.Chain[0]}
	for _, c := range b.Chain {
		if !inventory.IsSelfSigned(c) || len(b.Chain) == 1 {
			tc.Certificate = append(tc.Certificate, c.Raw)
		}
	}
	return tc, nil
}

// specOf is the check spec of e (its address was validated as
// HOST:PORT when stored).
func specOf(e *inventory.Endpoint) inventory.CheckSpec {
	host, port, err := net.SplitHostPort(e.Address)
	if err != nil {
		return inventory.CheckSpec{Host: e.Address, SNI: e.ServerName, ClientCertificateID: e.ClientCertificateID}
	}
	n, _ := strconv.Atoi(port)
	return inventory.CheckSpec{Host: host, Port: n, SNI: e.ServerName, ClientCertificateID: e.ClientCertificateID}
}
