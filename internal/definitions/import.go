package definitions

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// DefaultRenewalDays is the renewal policy given to imported definitions.
const DefaultRenewalDays = 30

// Imported is a definition made from a certificate in the inventory.
type Imported struct {
	Definition *inventory.Definition
	// KeyHeld says the certificate's private key is in the inventory: the
	// certificate can be redeployed. Without it, it can only be monitored.
	KeyHeld bool
}

// ImportFromCertificate builds a definition from the stored certificate
// certID (subject, SANs, key type, issuer name) and makes it the
// definition's current certificate. An empty name means the certificate's
// common name (a wildcard's "*" written as "wildcard"), else its first SAN.
func (s *Service) ImportFromCertificate(ctx context.Context, actor string, certID int64, name string) (*Imported, error) {
	c, err := s.store.GetCertificate(ctx, certID)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, fmt.Errorf("definitions: no certificate %d: %w", certID, inventory.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	d, err := definitionFrom(c)
	if err != nil {
		return nil, err
	}
	if name != "" {
		d.Name = name
	}
	imp := &Imported{Definition: d, KeyHeld: c.KeyID != 0}
	held := "key not held: monitor only"
	if imp.KeyHeld {
		held = "key held: can be redeployed"
	}
	d.Notes = fmt.Sprintf("imported from certificate %d (SHA-256 %s); %s", c.ID, c.SHA256, held)
	what := fmt.Sprintf("from certificate %d; %s; %s", c.ID, held, summary(d))
	if err := s.create(ctx, actor, "definition.import", d, what); err != nil {
		return nil, err
	}
	return imp, nil
}

// definitionFrom describes an existing leaf certificate as a definition.
func definitionFrom(c *inventory.Certificate) (*inventory.Definition, error) {
	if c.IsCA {
		return nil, invalid(inventory.Invalid("certificate_id", "certificate %d is a CA certificate, not one a definition describes", c.ID))
	}
	x, err := x509.ParseCertificate(c.DER)
	if err != nil {
		return nil, fmt.Errorf("definitions: certificate %d: %w", c.ID, err)
	}
	keyType := inventory.KeyTypeOf(c.KeyAlgorithm, c.KeyBits)
	if keyType == "" {
		return nil, invalid(inventory.Invalid("certificate_id", "certificate %d: no key type makes a %s %d-bit key", c.ID, c.KeyAlgorithm, c.KeyBits))
	}
	d := &inventory.Definition{
		Subject: inventory.Subject{CommonName: x.Subject.CommonName, Organization: first(x.Subject.Organization),
			OrganizationalUnit: first(x.Subject.OrganizationalUnit), Locality: first(x.Subject.Locality),
			Province: first(x.Subject.Province), Country: first(x.Subject.Country)},
		KeyType:              keyType,
		Requirements:         inventory.Requirements{Issuer: issuerName(x)},
		Renewal:              inventory.Renewal{DaysBefore: DefaultRenewalDays},
		CurrentCertificateID: c.ID,
	}
	d.SANs = append(d.SANs, x.DNSNames...)
	for _, ip := range x.IPAddresses {
		d.SANs = append(d.SANs, ip.String())
	}
	for _, san := range x.DNSNames {
		d.Requirements.Wildcard = d.Requirements.Wildcard || strings.HasPrefix(san, "*.")
	}
	d.Name = derivedName(d.Subject.CommonName)
	if d.Name == "" && len(d.SANs) > 0 {
		d.Name = derivedName(d.SANs[0])
	}
	return d, nil
}

var unnamable = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// derivedName turns a common name or SAN into a definition name: "*"
// becomes "wildcard" and every run of other characters a name cannot hold
// becomes "-".
func derivedName(s string) string {
	s = unnamable.ReplaceAllString(strings.ReplaceAll(s, "*", "wildcard"), "-")
	s = strings.TrimLeft(s, "._-")
	return s[:min(len(s), 128)]
}

// issuerName is the issuer's common name, or its whole DN without one.
func issuerName(x *x509.Certificate) string {
	if x.Issuer.CommonName != "" {
		return x.Issuer.CommonName
	}
	return x.Issuer.String()
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}
