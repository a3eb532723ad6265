package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
)

// TestIssuancePolicyAgainstAttacker plays a User with an API token
// against a served instance: a certificate and key imported, made a
// definition, its requirements cleared, an acquisition started with the
// same key against the built-in CA, issued. The CA refuses (422 naming
// the rule) and signs nothing until an admin allows the names; with
// approval on, the request waits for another admin.
func TestIssuancePolicyAgainstAttacker(t *testing.T) {
	c := newCK(t)
	users := map[string]string{}
	for name, role := range map[string]string{"mallory": "user", "alice": "admin", "carol": "admin"} {
		users[name] = readToken(t, tokenFile(t, c, name, role))
	}
	s := serve(t, c)
	as := func(name string) *client.Client {
		cl, err := client.New(s.URL, users[name], client.WithHTTPClient(c.httpsClient(t)))
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	mallory, alice, carol := as("mallory"), as("alice"), as("carol")
	ctx := t.Context()
	caID := defaultCAID(t, alice)
	signed := func() int { t.Helper(); return c.count() }

	// The attack chain: nothing is signed, the refusal names the rule.
	evil := attackChain(t, mallory, "evil", "*.evil.test", "localhost")
	before := signed()
	_, err := mallory.Issue(ctx, evil)
	wantRule(t, err, "dns_names", "dns_domain")
	if after := signed(); after != before {
		t.Fatalf("certificates %d -> %d after the refused issue; want nothing signed", before, after)
	}
	huge := make([]string, 10000)
	for i := range huge {
		huge[i] = fmt.Sprintf("h%d.example.test", i)
	}
	many := attackChain(t, mallory, "many", huge...)
	before = signed()

	// An admin lets users have example.test and its names, at most 10.
	setUserPolicy(t, alice, caID, "refuse")
	_, err = mallory.Issue(ctx, many)
	wantRule(t, err, "dns_names", "max_names")
	_, err = mallory.Issue(ctx, evil)
	wantRule(t, err, "dns_names", "dns_domain")
	if after := signed(); after != before {
		t.Fatalf("certificates %d -> %d after refusals by the user policy; want nothing signed", before, after)
	}
	fine := startFor(t, mallory, "fine", "www.example.test", "*.example.test")
	v, err := mallory.Issue(ctx, fine)
	if err != nil || v.Certificate == nil || v.Acquisition.State != "issued" {
		t.Fatalf("in-policy Issue = %+v, %v; want issued", v, err)
	}
	before = signed()

	// With approval the out-of-policy request waits for another admin.
	setUserPolicy(t, alice, caID, "approval")
	v, err = mallory.Issue(ctx, evil)
	if err != nil || v.Acquisition.State != "pending_approval" || v.Certificate != nil {
		t.Fatalf("Issue outside the policy with approval = %+v, %v; want pending_approval", v, err)
	}
	if signed() != before {
		t.Fatal("a pending request was signed")
	}
	if _, err := mallory.Approve(ctx, evil); client.StatusCode(err) != http.StatusForbidden {
		t.Errorf("Approve by the user = %v, want 403", err)
	}
	own := startFor(t, alice, "own", "own.elsewhere.test")
	restrictAdmins(t, alice, caID)
	if v, err := alice.Issue(ctx, own); err != nil || v.Acquisition.State != "pending_approval" {
		t.Fatalf("admin's Issue outside the admin policy = %+v, %v; want pending_approval", v, err)
	}
	if _, err := alice.Approve(ctx, own); client.StatusCode(err) != http.StatusForbidden {
		t.Errorf("Approve by the admin who asked = %v, want 403", err)
	}
	for _, id := range []int64{evil, own} {
		v, err := carol.Approve(ctx, id)
		if err != nil || v.Certificate == nil || v.Acquisition.State != "issued" {
			t.Fatalf("Approve(%d) by another admin = %+v, %v; want issued", id, v, err)
		}
	}
	if got := signed(); got != before+2 {
		t.Errorf("certificates after two approvals = %d, want %d", got, before+2)
	}
}

// attackChain imports a self-signed certificate for names with its key
// as the user, makes it a definition, clears the requirements and starts
// a renewal that reuses the key; it returns the acquisition ID.
func attackChain(t *testing.T, u *client.Client, name string, names ...string) int64 {
	t.Helper()
	ctx := t.Context()
	imported, err := u.ImportCertificates(ctx, client.CertificateImport{Data: selfSignedWithKey(t, names)})
	if err != nil || imported.Key == nil || len(imported.Certificates) != 1 {
		t.Fatalf("import certificate and key = %+v, %v", imported, err)
	}
	d, err := u.ImportDefinition(ctx, client.DefinitionImport{CertificateID: imported.Certificates[0].ID, Name: name})
	if err != nil || !d.KeyHeld {
		t.Fatalf("definitions/import = %+v, %v; want the key held", d, err)
	}
	def := d.Definition
	def.Requirements = client.Requirements{Wildcard: def.Requirements.Wildcard} // no issuer, level or validity wanted
	if _, err := u.UpdateDefinition(ctx, &def); err != nil {
		t.Fatalf("clear the requirements: %v", err)
	}
	// Against the built-in CA, named: a renewal of a certificate from
	// elsewhere is not sent to the default CA unasked.
	p, err := u.StartAcquisition(ctx, client.AcquisitionStart{DefinitionID: def.ID, ReuseKey: true,
		IssuerID: defaultIssuerID(t, u)})
	if err != nil {
		t.Fatalf("start with reuse_key: %v", err)
	}
	return p.ID
}

// defaultIssuerID returns the catalogue issuer of the default CA.
func defaultIssuerID(t *testing.T, u *client.Client) int64 {
	t.Helper()
	caID := defaultCAID(t, u)
	list, err := u.ListIssuers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range list.Items {
		if i.Kind == "builtin-ca" && i.CAID == caID {
			return i.ID
		}
	}
	t.Fatal("no issuer for the default CA")
	return 0
}

// startFor makes a definition for names and starts a new acquisition.
func startFor(t *testing.T, u *client.Client, name string, names ...string) int64 {
	t.Helper()
	wildcard := slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "*.") })
	d, err := u.CreateDefinition(t.Context(), &client.Definition{Name: name, Subject: client.Subject{CommonName: names[0]},
		SANs: names, Requirements: client.Requirements{Wildcard: wildcard}, Renewal: client.Renewal{DaysBefore: 30}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := u.StartAcquisition(t.Context(), client.AcquisitionStart{DefinitionID: d.ID})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func setUserPolicy(t *testing.T, admin *client.Client, caID int64, onViolation string) {
	t.Helper()
	p := client.IssuancePolicy{Admin: client.RolePolicy{Unrestricted: true}, OnViolation: onViolation,
		User: client.RolePolicy{Domains: []client.DomainRule{{Domain: "example.test", Subdomains: true, Wildcard: true}}, MaxNames: 10}}
	if _, err := admin.SetCAPolicy(t.Context(), caID, p); err != nil {
		t.Fatalf("SetCAPolicy: %v", err)
	}
}

// restrictAdmins limits admins to example.test too, keeping approval on.
func restrictAdmins(t *testing.T, admin *client.Client, caID int64) {
	t.Helper()
	cur, err := admin.GetCAPolicy(t.Context(), caID)
	if err != nil {
		t.Fatal(err)
	}
	p := cur.Policy
	p.Admin = client.RolePolicy{Domains: []client.DomainRule{{Domain: "example.test", Subdomains: true}}}
	if _, err := admin.SetCAPolicy(t.Context(), caID, p); err != nil {
		t.Fatal(err)
	}
}

func wantRule(t *testing.T, err error, field, rule string) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Problem.Status != http.StatusUnprocessableEntity || len(ce.Problem.Errors) != 1 ||
		ce.Problem.Errors[0].Field != field || ce.Problem.Errors[0].Rule != rule {
		t.Fatalf("error = %v; want 422 on %s by rule %s", err, field, rule)
	}
}

func defaultCAID(t *testing.T, cl *client.Client) int64 {
	t.Helper()
	list, err := cl.ListCAs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range list.Items {
		if x.Default {
			return x.ID
		}
	}
	t.Fatal("no default CA")
	return 0
}

func readToken(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// selfSignedWithKey is a PEM self-signed certificate for names and its
// private key.
func selfSignedWithKey(t *testing.T, names []string) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		DNSNames: names, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})...)
}
