package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// putCert stores a freshly made certificate named cn: a self-signed CA
// when isCA, else a self-signed leaf. It returns its inventory ID.
func putCert(t *testing.T, s *site, cn string, isCA bool) int64 {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		BasicConstraintsValid: true, IsCA: isCA, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.stack.Store.PutCertificates(context.Background(), []*inventory.Certificate{inventory.NewCertificate(c, "test")})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].ID
}

// TestTrustStoreScreen: everyone reads the trust store; only admins see
// and use the changes, from the screen and from a root's page.
func TestTrustStoreScreen(t *testing.T) {
	s := newSite(t)
	rootID := putCert(t, s, "Corporate Root", true)
	leafID := putCert(t, s, "leaf.example.test", false)
	rootPage := fmt.Sprintf("/certificates/%d", rootID)

	bob := s.signIn("bob")
	_, body := bob.get("/trust-store")
	mustContain(t, body, "Trust store", "System roots", "trusted", "certkeeper CA")
	admLacks(t, body, "Corporate Root", "Mark as trusted root", "Stop trusting")
	_, body = bob.get(rootPage)
	admLacks(t, body, "Mark as trusted root")
	res, body := bob.post("/trust-store/roots", url.Values{"certificate_id": {fmt.Sprint(rootID)}})
	admStatus(t, res, body, http.StatusForbidden)

	ada := s.signIn("ada")
	_, body = ada.get(rootPage)
	mustContain(t, body, "Mark as trusted root")
	res, body = ada.post("/trust-store/roots", url.Values{"certificate_id": {fmt.Sprint(leafID)}})
	admStatus(t, res, body, http.StatusUnprocessableEntity)
	mustContain(t, body, "The root was not marked", "not a CA certificate")
	res, body = ada.post("/trust-store/roots", url.Values{"certificate_id": {fmt.Sprint(rootID)}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "is now a trusted root", "CN=Corporate Root", "user:ada", "Remove")
	res, body = ada.post("/trust-store/system-roots", url.Values{"enabled": {"off"}})
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "System roots are not trusted.", "Trust the system roots")

	_, body = bob.get("/trust-store")
	mustContain(t, body, "CN=Corporate Root", "not trusted")
	admLacks(t, body, "Remove")

	res, body = ada.post(fmt.Sprintf("/trust-store/roots/%d/remove", rootID), nil)
	admStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "is no longer a trusted root")
	admLacks(t, body, "CN=Corporate Root")
}
