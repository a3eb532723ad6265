package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// importPEM imports data as the user and returns the certificates' IDs.
func (e *env) importPEM(t *testing.T, data []byte) []int64 {
	t.Helper()
	res, err := e.user.ImportCertificates(ctx, client.CertificateImport{Data: data})
	if err != nil {
		t.Fatalf("ImportCertificates: %v", err)
	}
	var ids []int64
	for _, c := range res.Certificates {
		ids = append(ids, c.ID)
	}
	return ids
}

// selfSignedLeafPEM is a self-signed certificate that is not a CA.
func selfSignedLeafPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "leaf.example.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), DNSNames: []string{"leaf.example.test"},
		BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestTrustStoreRoles: users read the trust store and get 403 on every
// change, which then changes nothing; the change routes are admin-only in
// the route table.
func TestTrustStoreRoles(t *testing.T) {
	e := newEnv(t, openSQLite)
	v := newOpensslCA(t)
	rootID := e.importPEM(t, v.Read("root.pem"))[0]
	for _, rt := range e.api.Routes() {
		if strings.HasPrefix(rt.Pattern, "/api/v1/trust-store") && rt.Method != "GET" && rt.Role != inventory.RoleAdmin {
			t.Errorf("%s %s role = %v, want admin", rt.Method, rt.Pattern, rt.Role)
		}
	}
	_, err := e.user.AddTrustRoot(ctx, rootID)
	wantProblem(t, err, http.StatusForbidden)
	_, err = e.user.SetSystemRoots(ctx, false)
	wantProblem(t, err, http.StatusForbidden)
	if _, err := e.admin.AddTrustRoot(ctx, rootID); err != nil {
		t.Fatalf("admin AddTrustRoot: %v", err)
	}
	wantProblem(t, e.user.RemoveTrustRoot(ctx, rootID), http.StatusForbidden)
	ts, err := e.user.GetTrustStore(ctx)
	if err != nil {
		t.Fatalf("user GetTrustStore: %v", err)
	}
	if !ts.SystemRoots || len(ts.Roots) != 1 || ts.Roots[0].Certificate.ID != rootID || ts.Roots[0].Source != "marked" ||
		ts.Roots[0].AddedBy != "user:ada" {
		t.Errorf("trust store after refused user changes = %+v; want system roots on and the admin's root only", ts)
	}
}

// TestTrustStoreChanges: what an admin may mark and remove, and the audit
// trail of every change.
func TestTrustStoreChanges(t *testing.T) {
	e := newEnv(t, openSQLite)
	if _, _, err := e.auth.EnsureDefault(ctx); err != nil {
		t.Fatal(err)
	}
	v := newOpensslCA(t)
	rootID := e.importPEM(t, v.Read("root.pem"))[0]
	interID := e.importPEM(t, v.Read("intermediate.pem"))[0]
	leafID := e.importPEM(t, selfSignedLeafPEM(t))[0]

	ts, err := e.user.GetTrustStore(ctx)
	if err != nil || len(ts.Roots) != 1 || ts.Roots[0].Source != "ca" || ts.Roots[0].CA == "" {
		t.Fatalf("fresh trust store = %+v, %v; want the default CA's root alone", ts, err)
	}
	caRootID := ts.Roots[0].Certificate.ID
	for name, id := range map[string]int64{"not a CA": leafID, "not self-signed": interID, "none": 0} {
		_, err := e.admin.AddTrustRoot(ctx, id)
		p := wantProblem(t, err, http.StatusUnprocessableEntity)
		if len(p.Errors) != 1 || p.Errors[0].Field != "certificate_id" {
			t.Errorf("mark %s: problem %+v, want a certificate_id field error", name, p)
		}
	}
	_, err = e.admin.AddTrustRoot(ctx, 999999)
	wantProblem(t, err, http.StatusNotFound)
	_, err = e.admin.AddTrustRoot(ctx, caRootID)
	wantProblem(t, err, http.StatusConflict)
	root, err := e.admin.AddTrustRoot(ctx, rootID)
	if err != nil || root.Certificate.ID != rootID || root.Source != "marked" || root.AddedBy != "user:ada" || root.AddedAt.IsZero() {
		t.Fatalf("AddTrustRoot = %+v, %v; want the root marked by ada", root, err)
	}
	_, err = e.admin.AddTrustRoot(ctx, rootID)
	wantProblem(t, err, http.StatusConflict)
	wantProblem(t, e.admin.RemoveTrustRoot(ctx, caRootID), http.StatusConflict)
	if ts, err := e.admin.SetSystemRoots(ctx, false); err != nil || ts.SystemRoots || len(ts.Roots) != 2 {
		t.Errorf("SetSystemRoots(false) = %+v, %v; want off with two roots", ts, err)
	}
	if err := e.admin.RemoveTrustRoot(ctx, rootID); err != nil {
		t.Fatalf("RemoveTrustRoot: %v", err)
	}
	wantProblem(t, e.admin.RemoveTrustRoot(ctx, rootID), http.StatusNotFound)
	if ts, err := e.user.GetTrustStore(ctx); err != nil || ts.SystemRoots || len(ts.Roots) != 1 || ts.Roots[0].Certificate.ID != caRootID {
		t.Errorf("trust store at the end = %+v, %v; want system roots off and the CA root alone", ts, err)
	}
	wantTrustAudit(t, e, []string{"trust.root_add", "trust.system_roots", "trust.root_remove"})
}

// wantTrustAudit checks the trust.* audit events, oldest first.
func wantTrustAudit(t *testing.T, e *env, want []string) {
	t.Helper()
	events, err := e.admin.ListAudit(ctx, client.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events.Items {
		if strings.HasPrefix(ev.Action, "trust.") {
			got = append(got, ev.Action)
			if ev.Actor != "user:ada" || ev.Object == "" {
				t.Errorf("audit event %+v: want actor user:ada and an object", ev)
			}
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("trust audit events = %q, want %q", got, want)
	}
}
