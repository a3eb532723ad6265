package acquisition

import (
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestRenewalStartsFromTheIssuer: a renewal with no issuer named starts
// from the issuer and product of the definition's last completed process
// (a vendor here, with two products), not from the default CA; a
// definition whose certificate came from elsewhere and that has no process
// is asked for an issuer, not renewed by the default CA.
func TestRenewalStartsFromTheIssuer(t *testing.T) {
	v := newVendorCA(t)
	f := newFixture(t, Config{Trust: fixedRoots{v.Roots()}})
	ctx := t.Context()
	f.vendor(t, "vendorx", "", "dv", "ov")
	f.definition(t, "shop", "shop.example.test")
	p := f.start(t, StartOptions{Definition: "shop", Issuer: "vendorx", Product: "ov", AutoSwitch: true})
	csr, err := f.svc.CSR(ctx, actor, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	leaf := v.Sign("leaf", csr, "serverAuth", "DNS:shop.example.test")
	if val, err := f.svc.Upload(ctx, actor, p.ID, Upload{Data: v.Read("leaf.pem"),
		Intermediates: [][]byte{v.Read("intermediate.pem")}}); err != nil || !val.Switched {
		t.Fatalf("Upload = %+v, %v; want switched", val, err)
	}

	renewal := f.start(t, StartOptions{Definition: "shop"})
	if renewal.Kind != inventory.AcquisitionRenewal || renewal.Issuer == nil || renewal.Issuer.Name != "vendorx" ||
		renewal.Product == nil || renewal.Product.Name != "ov" {
		t.Fatalf("renewal = kind %s, issuer %+v, product %+v; want a renewal from vendorx ov", renewal.Kind, renewal.Issuer, renewal.Product)
	}
	if _, err := f.svc.Cancel(ctx, actor, renewal.ID, "test"); err != nil {
		t.Fatal(err)
	}
	// A product named replaces the earlier one.
	dv := f.start(t, StartOptions{Definition: "shop", Product: "dv"})
	if dv.Issuer.Name != "vendorx" || dv.Product.Name != "dv" {
		t.Errorf("renewal with product dv = %s %s, want vendorx dv", dv.Issuer.Name, dv.Product.Name)
	}
	if _, err := f.svc.Cancel(ctx, actor, dv.ID, "test"); err != nil {
		t.Fatal(err)
	}

	// A definition made from a certificate of that vendor, with no
	// process of its own: the issuer must be named.
	res, err := f.st.PutCertificates(ctx, []*inventory.Certificate{inventory.NewCertificate(leaf, "import:leaf.pem")})
	if err != nil {
		t.Fatal(err)
	}
	imported := &inventory.Definition{Name: "imported", Subject: inventory.Subject{CommonName: "shop.example.test"},
		CurrentCertificateID: res[0].ID, Renewal: inventory.Renewal{DaysBefore: 20}}
	if err := f.defs.Create(ctx, actor, imported); err != nil {
		t.Fatal(err)
	}
	before := certCount(t, f.st)
	_, err = f.svc.Start(ctx, actor, StartOptions{Definition: "imported"})
	wantErr(t, err, inventory.ErrInvalid, "issuer", "not from one of certkeeper's CAs")
	if certCount(t, f.st) != before {
		t.Error("a refused renewal stored certificates")
	}
	named := f.start(t, StartOptions{Definition: "imported", Issuer: "vendorx", Product: "ov"})
	if named.Issuer.Name != "vendorx" {
		t.Errorf("renewal with the issuer named = %s, want vendorx", named.Issuer.Name)
	}
}

// TestRenewalOfBuiltinCertificateWithoutProcess: a definition made from a
// certificate of the built-in CA renews from that CA.
func TestRenewalOfBuiltinCertificateWithoutProcess(t *testing.T) {
	f := newFixture(t, Config{})
	first := f.complete(t, StartOptions{Definition: f.definition(t, "api", "api.example.test").Name})
	d := &inventory.Definition{Name: "copy", Subject: inventory.Subject{CommonName: "api.example.test"},
		CurrentCertificateID: first.CertificateID, Renewal: inventory.Renewal{DaysBefore: 20}}
	if err := f.defs.Create(t.Context(), actor, d); err != nil {
		t.Fatal(err)
	}
	r := f.start(t, StartOptions{Definition: "copy"})
	if r.Kind != inventory.AcquisitionRenewal || r.Issuer == nil || r.Issuer.ID != first.IssuerID {
		t.Fatalf("renewal = kind %s issuer %+v; want a renewal from issuer %d", r.Kind, r.Issuer, first.IssuerID)
	}
}
