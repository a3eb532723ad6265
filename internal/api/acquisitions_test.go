package api_test

import (
	"encoding/pem"
	"net/http"
	"testing"

	"github.com/certkeeper/certkeeper/client"
)

// testAcquisitions drives a built-in CA acquisition through the API:
// start, request download, issue, switch; and a cancelled one.
func testAcquisitions(t *testing.T, e *env) {
	ca, _, err := e.auth.EnsureDefault(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.catalogue.SyncBuiltin(ctx); err != nil {
		t.Fatal(err)
	}
	allowUsers(t, e, ca.ID, "example.com")
	def := newDefinition("app")
	def.Requirements.Issuer = ca.Name
	d, err := e.user.CreateDefinition(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.user.StartAcquisition(ctx, client.AcquisitionStart{DefinitionID: d.ID})
	if err != nil {
		t.Fatalf("StartAcquisition = %v", err)
	}
	if q.State != "csr_ready" || q.Kind != "new" || q.KeyID == 0 || len(q.Steps) == 0 {
		t.Errorf("started = %+v, want csr_ready, new, a key and steps", q)
	}
	if _, err := e.user.StartAcquisition(ctx, client.AcquisitionStart{DefinitionID: d.ID}); !client.IsConflict(err) {
		t.Errorf("second open acquisition = %v, want 409", err)
	}
	csr, err := e.user.AcquisitionCSR(ctx, q.ID)
	if b, _ := pem.Decode(csr); err != nil || b == nil || b.Type != "CERTIFICATE REQUEST" {
		t.Errorf("AcquisitionCSR = %q, %v", csr, err)
	}
	v, err := e.user.Issue(ctx, q.ID)
	if err != nil || v.Certificate == nil || v.Acquisition.State != "issued" {
		t.Fatalf("Issue = %+v, %v; want an issued certificate", v, err)
	}
	done, err := e.user.Switch(ctx, q.ID)
	if err != nil || done.State != "completed" {
		t.Fatalf("Switch = %+v, %v", done, err)
	}
	if got, err := e.user.GetDefinition(ctx, d.ID); err != nil || got.CurrentCertificateID != v.Certificate.ID {
		t.Errorf("definition after switch = %+v, %v; want current %d", got, err, v.Certificate.ID)
	}
	if _, err := e.user.CancelAcquisition(ctx, q.ID, "too late"); !client.IsConflict(err) {
		t.Errorf("cancel completed = %v, want 409", err)
	}
	testAcquisitionLists(t, e, d.ID, q.KeyID)
}

func testAcquisitionLists(t *testing.T, e *env, defID, keyID int64) {
	l, err := e.user.ListAcquisitions(ctx, client.AcquisitionQuery{State: "completed", DefinitionID: defID, KeyID: keyID})
	if err != nil || len(l.Items) != 1 {
		t.Errorf("ListAcquisitions(completed) = %+v, %v; want 1", l, err)
	}
	if _, err := e.user.ListAcquisitions(ctx, client.AcquisitionQuery{State: "sleeping"}); client.StatusCode(err) != http.StatusBadRequest {
		t.Errorf("state=sleeping = %v, want 400", err)
	}
	if _, err := e.user.Attention(ctx, 0, client.Page{}); err != nil {
		t.Errorf("Attention = %v", err)
	}
	k, err := e.user.GetKey(ctx, keyID)
	if err != nil || len(k.Usage.Acquisitions) != 1 || len(k.Usage.Certificates) != 1 {
		t.Errorf("key usage = %+v, %v; want one acquisition and one certificate", k.Usage, err)
	}
}
