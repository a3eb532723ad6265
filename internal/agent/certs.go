package agent

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// The endpoint's certificates.
const (
	// Custom certificate files in Config.CertDir: all three present make
	// the endpoint serve server.crt (with its chain) and server.key, and
	// trust ca.crt besides the built-in CA for client certificates.
	CustomCAFile   = "ca.crt"
	CustomCertFile = "server.crt"
	CustomKeyFile  = "server.key"
	// EndpointLabel is set on the default endpoint certificates.
	EndpointLabel = "certkeeper-agent-endpoint"
	// SettingEndpointCertificate names the default endpoint certificate:
	// {"certificate_id": 42}.
	SettingEndpointCertificate = "agent.endpoint_certificate_id"
	// Sources of the certificates in use.
	SourceDefault = "default"
	SourceCustom  = "custom"
)

// customCerts are the custom endpoint certificates.
type customCerts struct {
	cert *tls.Certificate
	// chain is server.crt's chain, leaf first; cas are ca.crt's
	// certificates.
	chain []*x509.Certificate
	cas   []*x509.Certificate
	// state changes whenever a file's content does.
	state string
}

// top is the certificate at the top of the served chain.
func (c *customCerts) top() *x509.Certificate { return c.chain[len(c.chain)-1] }

// loadCustom reads the custom certificates in dir. ok is false when dir
// is "" or any of the three files is missing; err says why files that
// are there cannot be used.
func loadCustom(dir string) (cs *customCerts, ok bool, err error) {
	if dir == "" {
		return nil, false, nil
	}
	var data [3][]byte
	for i, name := range []string{CustomCAFile, CustomCertFile, CustomKeyFile} {
		data[i], err = os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, false, nil
		}
		if err != nil {
			return nil, true, fmt.Errorf("agent: custom endpoint certificate: %w", err)
		}
	}
	cs, err = parseCustom(data[0], data[1], data[2])
	if err != nil {
		return nil, true, fmt.Errorf("agent: custom endpoint certificate in %s: %w", dir, err)
	}
	sum := sha256.Sum256(append(append(append([]byte{}, data[0]...), data[1]...), data[2]...))
	cs.state = string(sum[:])
	return cs, true, nil
}

func parseCustom(caPEM, certPEM, keyPEM []byte) (*customCerts, error) {
	b, err := format.Decode(append(append(append([]byte{}, certPEM...), '\n'), keyPEM...), nil)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s, %s: %w", CustomCertFile, CustomKeyFile, err)
	case len(b.Chain) == 0:
		return nil, fmt.Errorf("%s: no certificate", CustomCertFile)
	case b.Key == nil:
		return nil, fmt.Errorf("%s: no private key", CustomKeyFile)
	case !b.KeyMatchesLeaf:
		return nil, fmt.Errorf("%s is not the key of %s (%s)", CustomKeyFile, CustomCertFile, b.Leaf().Subject)
	}
	cas, err := parseCerts(caPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CustomCAFile, err)
	}
	c := &tls.Certificate{PrivateKey: b.Key, Leaf: b.Leaf()}
	for _, x := range b.Chain {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return &customCerts{cert: c, chain: b.Chain, cas: cas}, nil
}

// parseCerts reads every PEM certificate in data; there must be one.
func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}

// defaultCerts keeps the default endpoint certificate: issued by the
// built-in default CA for the configured names plus the loopback names,
// remembered in the inventory, reissued when a third of its lifetime is
// left or a name is missing.
type defaultCerts struct {
	reg    *Registry
	sealer *keys.Sealer
	names  []string
}

// loopback names are always on the default certificate.
var loopback = []string{"localhost", "127.0.0.1", "::1"}

type defaultSetting struct {
	CertificateID int64 `json:"certificate_id"`
}

// load returns the stored default certificate with its chain up to the
// root; none usable gives an error wrapping inventory.ErrNotFound.
func (d *defaultCerts) load(ctx context.Context) (*tls.Certificate, error) {
	raw, err := d.reg.st.GetSetting(ctx, SettingEndpointCertificate)
	if err != nil {
		return nil, fmt.Errorf("agent: setting %s: %w", SettingEndpointCertificate, err)
	}
	var s defaultSetting
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("agent: setting %s: %w", SettingEndpointCertificate, err)
	}
	chain, err := d.reg.st.Chain(ctx, s.CertificateID)
	switch {
	case err != nil:
		return nil, fmt.Errorf("agent: endpoint certificate %d: %w", s.CertificateID, err)
	case len(chain) == 0 || chain[0].RevokedAt != nil || chain[0].KeyID == 0:
		return nil, fmt.Errorf("agent: endpoint certificate %d is gone, revoked or without key: %w", s.CertificateID, inventory.ErrNotFound)
	}
	k, err := d.reg.st.GetKey(ctx, chain[0].KeyID)
	if err != nil {
		return nil, fmt.Errorf("agent: key of the endpoint certificate: %w", err)
	}
	key, err := keys.OpenPrivateKey(d.sealer, k)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{PrivateKey: key}
	for _, rec := range chain {
		c.Certificate = append(c.Certificate, rec.DER)
	}
	if c.Leaf, err = x509.ParseCertificate(chain[0].DER); err != nil {
		return nil, fmt.Errorf("agent: endpoint certificate %d: %w", s.CertificateID, err)
	}
	return c, nil
}

// issue issues a new default certificate and remembers it. The key of
// prev, when given, is kept: agents pin the endpoint's public key, so a
// renewal must not change it. Without prev a new key is made.
func (d *defaultCerts) issue(ctx context.Context, prev *tls.Certificate) (*tls.Certificate, error) {
	r := ca.Request{Profile: ca.TLSServer, Labels: []string{EndpointLabel}, Requester: ca.System()}
	for _, n := range d.names {
		if a, err := netip.ParseAddr(n); err == nil {
			r.IPAddresses = append(r.IPAddresses, net.IP(a.AsSlice()))
		} else {
			r.DNSNames = append(r.DNSNames, n)
		}
	}
	var key crypto.Signer
	if prev != nil {
		var err error
		if key, r.CSR, err = keepKey(prev); err != nil {
			return nil, err
		}
	}
	is, err := d.reg.auth.Issue(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("agent: issue the endpoint certificate: %w", err)
	}
	if key == nil {
		key = is.Key
	}
	c := &tls.Certificate{PrivateKey: key, Leaf: is.Certificate}
	for _, x := range append([]*x509.Certificate{is.Certificate}, is.Chain...) {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	raw, err := json.Marshal(defaultSetting{CertificateID: is.Record.ID})
	if err != nil {
		return nil, err
	}
	return c, d.reg.st.PutSetting(ctx, SettingEndpointCertificate, raw)
}

// keepKey returns prev's key and a certificate request signed by it, so
// that the CA certifies the same key again (the names come from the
// issuance request).
func keepKey(prev *tls.Certificate) (crypto.Signer, *x509.CertificateRequest, error) {
	key, ok := prev.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("agent: the endpoint certificate's key cannot sign")
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		return nil, nil, fmt.Errorf("agent: endpoint certificate request: %w", err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, nil, fmt.Errorf("agent: endpoint certificate request: %w", err)
	}
	return key, csr, nil
}

// due says why leaf must be replaced, or "" when it serves on.
func (d *defaultCerts) due(leaf *x509.Certificate, now time.Time) string {
	if !now.Before(leaf.NotAfter.Add(-leaf.NotAfter.Sub(leaf.NotBefore) / 3)) {
		return "due for renewal"
	}
	for _, n := range d.names {
		if leaf.VerifyHostname(n) != nil {
			return "does not cover " + n
		}
	}
	return ""
}
