package acquisition

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"

	"github.com/certkeeper/certkeeper/internal/definitions"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// processKey is the key a process makes its request with, and the step
// that says where it came from.
type processKey struct {
	rec    *inventory.Key
	signer crypto.Signer
	action string
	detail string
}

// processKey reuses the key of d's current certificate, or generates,
// seals and stores a new key of d's key type.
func (s *Service) processKey(ctx context.Context, d *inventory.Definition, reuse bool) (*processKey, error) {
	if reuse {
		return s.reusedKey(ctx, d)
	}
	keyType := d.KeyType
	if keyType == "" {
		keyType = definitions.DefaultKeyType
	}
	signer, err := generateKey(s.cfg.Rand, keyType)
	if err != nil {
		return nil, err
	}
	rec, err := keys.SealPrivateKey(s.sealer, signer, s.now())
	if err != nil {
		return nil, fmt.Errorf("acquisition: %w", err)
	}
	if rec.ID, _, err = s.st.PutKey(ctx, rec); err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("%s key %d generated, public key SHA-256 %s", keyType, rec.ID, rec.SPKISHA256)
	return &processKey{rec: rec, signer: signer, action: "key_generated", detail: detail}, nil
}

// reusedKey opens the held key of d's current certificate.
func (s *Service) reusedKey(ctx context.Context, d *inventory.Definition) (*processKey, error) {
	if d.CurrentCertificateID == 0 {
		return nil, inventory.Invalid("reuse_key", "definition %q has no current certificate whose key could be reused", d.Name)
	}
	c, err := s.st.GetCertificate(ctx, d.CurrentCertificateID)
	if err != nil {
		return nil, err
	}
	if c.KeyID == 0 {
		return nil, inventory.Invalid("reuse_key", "the key of the current certificate (serial %s) is not held; make a new one", c.Serial)
	}
	rec, err := s.st.GetKey(ctx, c.KeyID)
	if err != nil {
		return nil, err
	}
	signer, err := keys.OpenPrivateKey(s.sealer, rec)
	if err != nil {
		return nil, fmt.Errorf("acquisition: %w", err)
	}
	detail := fmt.Sprintf("key %d of certificate serial %s reused", rec.ID, c.Serial)
	return &processKey{rec: rec, signer: signer, action: "key_reused", detail: detail}, nil
}

// generateKey makes a key of a key spec name (inventory.KeyTypeParts).
func generateKey(rnd io.Reader, keyType string) (crypto.Signer, error) {
	alg, bits, ok := inventory.KeyTypeParts(keyType)
	if !ok {
		return nil, inventory.Invalid("definition", "unknown key type %q", keyType)
	}
	switch {
	case alg == inventory.RSA:
		return rsa.GenerateKey(rnd, bits)
	case alg == inventory.ECDSA && bits == 384:
		return ecdsa.GenerateKey(elliptic.P384(), rnd)
	case alg == inventory.ECDSA:
		return ecdsa.GenerateKey(elliptic.P256(), rnd)
	}
	_, priv, err := ed25519.GenerateKey(rnd)
	return priv, err
}

// makeCSR makes and stores the request for d's names, signed by k.
func (s *Service) makeCSR(ctx context.Context, d *inventory.Definition, k *processKey) (*inventory.CSR, error) {
	n := wanted(d)
	tmpl := &x509.CertificateRequest{Subject: subject(d.Subject), DNSNames: n.dns, IPAddresses: n.ips}
	der, err := x509.CreateCertificateRequest(s.cfg.Rand, tmpl, k.signer)
	if err != nil {
		return nil, fmt.Errorf("acquisition: make request: %w", err)
	}
	rec := &inventory.CSR{Subject: tmpl.Subject.String(), SANs: n.all(), SPKISHA256: k.rec.SPKISHA256,
		KeyID: k.rec.ID, DER: der, CreatedAt: s.now()}
	if rec.ID, err = s.st.PutCSR(ctx, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// subject is the distinguished name of a definition's subject.
func subject(s inventory.Subject) pkix.Name {
	var n pkix.Name
	n.CommonName = s.CommonName
	for _, f := range []struct {
		to  *[]string
		val string
	}{{&n.Organization, s.Organization}, {&n.OrganizationalUnit, s.OrganizationalUnit},
		{&n.Locality, s.Locality}, {&n.Province, s.Province}, {&n.Country, s.Country}} {
		if f.val != "" {
			*f.to = []string{f.val}
		}
	}
	return n
}
