package ca

import (
	"context"
	"testing"
)

// The intermediate made by Init is issued by the root like any
// certificate: its serial is recorded under the root, so the root's CRL
// and OCSP responder know it.
func TestInitRecordsIntermediateUnderRoot(t *testing.T) {
	_, st, inter := newAuthority(t, Config{})
	ctx := context.Background()
	if inter.ParentID == 0 {
		t.Fatal("the default CA has no parent root")
	}
	cert, err := st.GetCertificate(ctx, inter.CertificateID)
	if err != nil {
		t.Fatal(err)
	}
	status, err := st.SerialStatus(ctx, inter.ParentID, cert.Serial)
	if err != nil {
		t.Fatal(err)
	}
	if !status.Issued {
		t.Fatalf("intermediate serial %s is not recorded as issued by its root", cert.Serial)
	}
	if cert.KeyID != inter.KeyID {
		t.Errorf("intermediate certificate key_id = %d, want the CA key %d", cert.KeyID, inter.KeyID)
	}
}
