package engine

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Want returns what the job's check expects: the leaf by its SHA-256
// (Leaf is nil), the non-self-signed certificates of Chain as the
// intermediates, and as roots those of the manager's trust store: the
// system roots unless NoSystemRoots (none when they cannot be loaded)
// plus the certificates of Roots. A self-signed certificate of Chain is
// left out: being in the chain does not make a root trusted.
func (j Job) Want() (Want, error) {
	sum := strings.ToLower(strings.TrimSpace(j.ExpectedSHA256))
	if b, err := hex.DecodeString(sum); sum != "" && (err != nil || len(b) != 32) {
		return Want{}, fmt.Errorf("deploy: job: expected SHA-256 %q is not 64 hex digits", j.ExpectedSHA256)
	}
	certs, err := parseChainPEM(j.Chain)
	if err != nil {
		return Want{}, err
	}
	trusted, err := parseChainPEM(j.Roots)
	if err != nil {
		return Want{}, fmt.Errorf("deploy: job roots: %w", err)
	}
	w := Want{ExpectedSHA256: sum, Roots: j.rootPool(trusted)}
	for _, c := range certs {
		if !inventory.IsSelfSigned(c) {
			w.Intermediates = append(w.Intermediates, c)
		}
	}
	return w, nil
}

// rootPool is the system roots unless NoSystemRoots, plus trusted.
func (j Job) rootPool(trusted []*x509.Certificate) *x509.CertPool {
	roots := x509.NewCertPool()
	if !j.NoSystemRoots {
		if sys, err := x509.SystemCertPool(); err == nil {
			roots = sys
		}
	}
	for _, c := range trusted {
		roots.AddCert(c)
	}
	return roots
}

// parseChainPEM reads the certificates of a PEM chain; any other block,
// or a certificate that does not parse, is an error.
func parseChainPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("deploy: job chain: unexpected PEM block %q", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("deploy: job chain: certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("deploy: job chain: data that is not PEM")
	}
	return certs, nil
}
