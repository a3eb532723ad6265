package webtls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// SettingDefault is the setting that names the default web certificate:
// {"certificate_id": 42}.
const SettingDefault = "web.default_certificate_id"

// Label is set on the default web certificates certkeeper issues itself.
const Label = "certkeeper-web"

// InventoryStore is what Inventory needs from the inventory.
type InventoryStore interface {
	GetSetting(ctx context.Context, name string) ([]byte, error)
	PutSetting(ctx context.Context, name string, value []byte) error
	CertificateBySHA256(ctx context.Context, sha256 string) (*inventory.Certificate, error)
	Chain(ctx context.Context, id int64) ([]inventory.Certificate, error)
	GetKey(ctx context.Context, id int64) (*inventory.Key, error)
}

// Inventory is the production Issuer and Store: it issues the default web
// certificate from the built-in CA (profile tls-server, label
// certkeeper-web, actor "certkeeper"; the CA stores the certificate, its
// sealed key and the audit event) and remembers which one it is in the
// setting SettingDefault.
type Inventory struct {
	st     InventoryStore
	auth   *ca.Authority
	sealer *keys.Sealer
	// CA names the signing CA; "" means the default CA.
	CA string
}

var (
	_ Issuer = (*Inventory)(nil)
	_ Store  = (*Inventory)(nil)
)

// NewInventory returns the Issuer and Store over st, signing with auth's
// default CA and unsealing keys with sealer.
func NewInventory(st InventoryStore, auth *ca.Authority, sealer *keys.Sealer) *Inventory {
	return &Inventory{st: st, auth: auth, sealer: sealer}
}

// Issue issues a tls-server certificate for names from the CA.
func (v *Inventory) Issue(ctx context.Context, names []string) (*tls.Certificate, error) {
	r := ca.Request{CA: v.CA, Profile: ca.TLSServer, Labels: []string{Label}, Requester: ca.System()}
	for _, n := range names {
		if a, err := netip.ParseAddr(n); err == nil {
			r.IPAddresses = append(r.IPAddresses, net.IP(a.AsSlice()))
		} else {
			r.DNSNames = append(r.DNSNames, n)
		}
	}
	is, err := v.auth.Issue(ctx, r)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{PrivateKey: is.Key, Leaf: is.Certificate}
	for _, x := range append([]*x509.Certificate{is.Certificate}, is.Chain...) {
		if !selfSigned(x) {
			c.Certificate = append(c.Certificate, x.Raw)
		}
	}
	return c, nil
}

type defaultSetting struct {
	CertificateID int64 `json:"certificate_id"`
}

// Load returns the certificate the setting names with its chain (without
// the root) and unsealed key. No setting, a certificate no longer in the
// inventory, and a revoked one give errors wrapping
// inventory.ErrNotFound.
func (v *Inventory) Load(ctx context.Context) (*tls.Certificate, error) {
	raw, err := v.st.GetSetting(ctx, SettingDefault)
	if err != nil {
		return nil, fmt.Errorf("webtls: setting %s: %w", SettingDefault, err)
	}
	var s defaultSetting
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("webtls: setting %s: %w", SettingDefault, err)
	}
	chain, err := v.st.Chain(ctx, s.CertificateID)
	if err == nil && len(chain) == 0 {
		err = inventory.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("webtls: default web certificate %d: %w", s.CertificateID, err)
	}
	rec := chain[0]
	switch {
	case rec.RevokedAt != nil:
		return nil, fmt.Errorf("webtls: default web certificate %d is revoked (%w)", rec.ID, inventory.ErrNotFound)
	case rec.KeyID == 0:
		return nil, fmt.Errorf("webtls: default web certificate %d has no key in the inventory (%w)", rec.ID, inventory.ErrNotFound)
	}
	return v.open(ctx, chain)
}

// open builds the served certificate from a stored chain.
func (v *Inventory) open(ctx context.Context, chain []inventory.Certificate) (*tls.Certificate, error) {
	k, err := v.st.GetKey(ctx, chain[0].KeyID)
	if err != nil {
		return nil, fmt.Errorf("webtls: key of the default web certificate: %w", err)
	}
	key, err := keys.OpenPrivateKey(v.sealer, k)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{PrivateKey: key}
	for i, rec := range chain {
		x, err := x509.ParseCertificate(rec.DER)
		if err != nil {
			return nil, fmt.Errorf("webtls: certificate %d: %w", rec.ID, err)
		}
		if i == 0 {
			c.Leaf = x
		} else if selfSigned(x) {
			continue
		}
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c, nil
}

// Save records c, which must be in the inventory (as Issue leaves it), as
// the default web certificate.
func (v *Inventory) Save(ctx context.Context, c *tls.Certificate) error {
	if len(c.Certificate) == 0 {
		return errors.New("webtls: no certificate to save")
	}
	rec, err := v.st.CertificateBySHA256(ctx, inventory.SHA256Hex(c.Certificate[0]))
	if err != nil {
		return fmt.Errorf("webtls: default web certificate: %w", err)
	}
	raw, err := json.Marshal(defaultSetting{CertificateID: rec.ID})
	if err != nil {
		return err
	}
	return v.st.PutSetting(ctx, SettingDefault, raw)
}

func selfSigned(x *x509.Certificate) bool {
	return bytes.Equal(x.RawSubject, x.RawIssuer) && x.CheckSignatureFrom(x) == nil
}
