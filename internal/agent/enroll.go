package agent

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Label is set on the agents' client certificates.
const Label = "certkeeper-agent"

// ErrTokenRefused is an enrollment with a token that is unknown, used,
// expired or made for another agent name.
var ErrTokenRefused = errors.New("agent: enrollment token unknown, already used, expired or made for another agent")

// EnrollRequest is the body of POST /agent/v1/enroll.
type EnrollRequest struct {
	Token string `json:"token"`
	// Name is the agent's name; "" means the name the token was made for.
	Name string `json:"name,omitempty"`
	// CSR is the PEM certificate request signed by the agent's new key.
	CSR string `json:"csr"`
}

// EnrollResponse is the answer to an enrollment: the agent's name and
// client certificate, and the issuing CA's chain up to its root, in PEM.
type EnrollResponse struct {
	Name        string `json:"name"`
	Certificate string `json:"certificate"`
	Chain       string `json:"chain"`
}

// Enroll uses a one-time token: the agent is stored (or, for a name
// already enrolled, gets a new certificate) and the CSR's key is
// certified for client authentication with the agent's name as Common
// Name, by the built-in default CA, for the profile's default year. The
// token is checked and used before anything is issued.
func (r *Registry) Enroll(ctx context.Context, in EnrollRequest, remoteAddr string) (*EnrollResponse, error) {
	if !strings.HasPrefix(in.Token, TokenPrefix) {
		return nil, ErrTokenRefused
	}
	if in.Name != "" {
		if err := ValidName(in.Name); err != nil {
			return nil, err
		}
	}
	csr, err := parseCSR(in.CSR)
	if err != nil {
		return nil, err
	}
	now := r.cfg.Now().UTC()
	a := &inventory.Agent{Name: in.Name, EnrolledAt: now, RemoteAddr: remoteAddr}
	// The certificate is not known yet: the agent is stored without one,
	// which no connection can match, and the certificate set once issued.
	if err := r.st.EnrollAgent(ctx, tokenHash(in.Token), a); err != nil {
		if errors.Is(err, inventory.ErrNotFound) {
			return nil, fmt.Errorf("%w (%w)", ErrTokenRefused, err)
		}
		return nil, err
	}
	is, err := r.auth.Issue(ctx, ca.Request{Profile: ca.TLSClient, CommonName: a.Name, CSR: csr,
		Labels: []string{Label}, Requester: ca.Requester{Name: "agent:" + a.Name, Role: ca.RoleSystem}})
	if err != nil {
		return nil, fmt.Errorf("agent: issue the certificate of %q: %w", a.Name, err)
	}
	sum := inventory.SHA256Hex(is.Certificate.Raw)
	summary := fmt.Sprintf("enrolled from %s, certificate %s", remoteAddr, sum)
	err = r.st.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.SetAgentCertificate(ctx, a.ID, sum); err != nil {
			return fmt.Errorf("agent: record the certificate of %q: %w", a.Name, err)
		}
		return r.audit(ctx, tx, "agent:"+a.Name, "agent.enroll", inventory.ObjectRef(inventory.KindAgent, a.ID),
			inventory.NamedSummary(a.Name, summary))
	})
	if err != nil {
		return nil, err
	}
	a.CertificateSHA256 = sum
	return &EnrollResponse{Name: a.Name, Certificate: string(pemCert(is.Certificate)), Chain: string(pemCerts(is.Chain))}, nil
}

// parseCSR reads one PEM certificate request with a valid signature and
// no subject alternative names (an agent certificate names the agent
// only).
func parseCSR(s string) (*x509.CertificateRequest, error) {
	block, rest := pem.Decode([]byte(s))
	if block == nil || block.Type != "CERTIFICATE REQUEST" || len(bytes.TrimSpace(rest)) > 0 {
		return nil, inventory.Invalid("csr", "want one PEM CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, inventory.Invalid("csr", "%v", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, inventory.Invalid("csr", "signature does not verify: %v", err)
	}
	if len(csr.DNSNames)+len(csr.IPAddresses)+len(csr.EmailAddresses)+len(csr.URIs) > 0 {
		return nil, inventory.Invalid("csr", "an agent request carries no alternative names")
	}
	if !strongKey(csr.PublicKey) {
		return nil, inventory.Invalid("csr", "want an ECDSA P-256 or P-384, RSA 2048-bit or larger, or Ed25519 key")
	}
	return csr, nil
}

// strongKey reports whether the CA certifies pub for an agent; checked
// before the token is used, so that a weak key does not waste it.
func strongKey(pub any) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return k.Curve == elliptic.P256() || k.Curve == elliptic.P384()
	case *rsa.PublicKey:
		return k.N.BitLen() >= 2048
	case ed25519.PublicKey:
		return true
	}
	return false
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func pemCerts(cs []*x509.Certificate) []byte {
	var out []byte
	for _, c := range cs {
		out = append(out, pemCert(c)...)
	}
	return out
}
