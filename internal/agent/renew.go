package agent

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"time"

	"github.com/certkeeper/certkeeper/internal/atomicfile"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// RenewRequest is the body of POST /agent/v1/renew: a request for a new
// client certificate, signed by the agent's key.
type RenewRequest struct {
	CSR string `json:"csr"`
}

// Renew certifies the request's key for the agent a (already
// authenticated by its current certificate) as Enroll does, and makes the
// new certificate the agent's: the old one stops working.
func (r *Registry) Renew(ctx context.Context, a *inventory.Agent, csrPEM, remoteAddr string) (*EnrollResponse, error) {
	csr, err := parseCSR(csrPEM)
	if err != nil {
		return nil, err
	}
	is, err := r.auth.Issue(ctx, ca.Request{Profile: ca.TLSClient, CommonName: a.Name, CSR: csr,
		Labels: []string{Label}, Requester: ca.Requester{Name: "agent:" + a.Name, Role: ca.RoleSystem}})
	if err != nil {
		return nil, fmt.Errorf("agent: renew the certificate of %q: %w", a.Name, err)
	}
	sum := inventory.SHA256Hex(is.Certificate.Raw)
	summary := fmt.Sprintf("certificate renewed from %s: %s", remoteAddr, sum)
	err = r.st.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.SetAgentCertificate(ctx, a.ID, sum); err != nil {
			return fmt.Errorf("agent: record the certificate of %q: %w", a.Name, err)
		}
		return r.audit(ctx, tx, "agent:"+a.Name, "agent.renew", inventory.ObjectRef(inventory.KindAgent, a.ID),
			inventory.NamedSummary(a.Name, summary))
	})
	if err != nil {
		return nil, err
	}
	return &EnrollResponse{Name: a.Name, Certificate: string(pemCert(is.Certificate)), Chain: string(pemCerts(is.Chain))}, nil
}

// renew answers POST /agent/v1/renew for an enrolled, enabled agent.
func (e *Endpoint) renew(w http.ResponseWriter, r *http.Request) error {
	a, err := e.agentOf(r)
	if err != nil {
		return err
	}
	var in RenewRequest
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	out, err := e.reg.Renew(r.Context(), a, in.CSR, remoteHost(r))
	if err != nil {
		return err
	}
	e.log.Info("agent certificate renewed", "name", a.Name, "remote", remoteHost(r))
	writeJSON(w, http.StatusOK, out)
	return nil
}

// renewDue reports whether a client certificate has less than a third of
// its life left at now.
func renewDue(c *x509.Certificate, now time.Time) bool {
	life := c.NotAfter.Sub(c.NotBefore)
	return c.NotAfter.Sub(now) < life/3
}

// renewIfDue renews the agent's certificate when a third of its life is
// left, keeping its key, and rewrites the certificate file. It reports
// whether it renewed. A certificate already expired cannot be renewed:
// the agent must enroll again.
func renewIfDue(ctx context.Context, c RunConfig, hc *http.Client, base *url.URL, cert *tls.Certificate, log *slog.Logger) (bool, error) {
	leaf := cert.Leaf
	now := c.Now()
	if !renewDue(leaf, now) {
		return false, nil
	}
	if now.After(leaf.NotAfter) {
		return false, fmt.Errorf("agent: the agent's certificate expired on %s; enroll again with a new token",
			leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	key, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return false, errors.New("agent: the agent's key cannot sign")
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: leaf.Subject.CommonName}}, key)
	if err != nil {
		return false, err
	}
	var out EnrollResponse
	in := RenewRequest{CSR: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))}
	if err := call(ctx, hc, "POST", base.JoinPath("agent/v1/renew").String(), in, &out); err != nil {
		return false, fmt.Errorf("agent: renew the certificate: %w", err)
	}
	certs, err := parseCerts([]byte(out.Certificate))
	if err != nil || !samePublicKey(leaf.PublicKey, certs[0].PublicKey) {
		return false, fmt.Errorf("agent: renew: the certificate received is not for this agent's key (%v)", err)
	}
	if err := atomicfile.Write(filepath.Join(c.Dir, CertFile), []byte(out.Certificate+out.Chain), 0o644); err != nil {
		return false, fmt.Errorf("agent: write %s: %w", CertFile, err)
	}
	log.Info("agent certificate renewed", "expires", certs[0].NotAfter.UTC().Format(time.RFC3339),
		"sha256", inventory.SHA256Hex(certs[0].Raw))
	return true, nil
}

// samePublicKey reports whether a and b are the same public key.
func samePublicKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
