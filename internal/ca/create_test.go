package ca

import (
	"context"
	"strings"
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

// TestInitResumesAfterCrash: a named init that died after its root is
// finished by running it again; a root that signed another CA, or one not
// made by init, keeps its name taken.
func TestInitResumesAfterCrash(t *testing.T) {
	a, st, _ := newAuthority(t, Config{})
	ctx := context.Background()
	o := InitOptions{Name: "corp", Organization: "Example", Actor: "test"}
	if _, _, err := a.createRoot(ctx, o); err != nil { // the process died here
		t.Fatal(err)
	}
	c, err := a.Init(ctx, o)
	if err != nil {
		t.Fatalf("Init after an interrupted init = %v", err)
	}
	root, err := st.CAByName(ctx, "corp-root")
	if err != nil || c.ParentID != root.ID {
		t.Fatalf("resumed CA parent = %d, root %+v, %v; want the interrupted root", c.ParentID, root, err)
	}
	if _, err := a.Init(ctx, o); err == nil {
		t.Error("a second Init of a finished CA was accepted")
	}
	// A root that already signed a CA is not resumed under another name.
	if _, err := a.Init(ctx, InitOptions{Name: "corp", Actor: "test"}); err == nil {
		t.Error("Init reused a root that has an issuing CA")
	}
}

// TestImportRefusesSameCertificateTwice: one CA certificate cannot be
// imported under two names.
func TestImportRefusesSameCertificateTwice(t *testing.T) {
	a, _, def := newAuthority(t, Config{})
	ctx := context.Background()
	key, cert, err := a.Signer(ctx, def.ParentID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Import(ctx, ImportOptions{Name: "again", Cert: cert, Key: key, Actor: "test"})
	if err == nil || !strings.Contains(err.Error(), `already imported as CA "default-root"`) {
		t.Fatalf("importing the default root again = %v, want a refusal naming default-root", err)
	}
}
