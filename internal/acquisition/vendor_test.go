package acquisition

import (
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// pfxPassword protects the PFX a vendor sends; it must never show.
const pfxPassword = "Pfx-Transport-Secret-71"

// newVendorCA is the stand-in vendor CA, played by openssl.
func newVendorCA(t *testing.T) *testenv.OpenSSLCA { return testenv.NewOpenSSLCA(t, "Vendor Test") }

// exportKey writes the process's private key as PKCS#8 PEM, as the
// vendor's PFX tool needs it, and returns the file name.
func (f *fixture) exportKey(t *testing.T, v *testenv.OpenSSLCA, p *Process) string {
	t.Helper()
	rec, err := f.st.GetKey(t.Context(), p.KeyID)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := keys.OpenPrivateKey(f.sealer, rec)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		t.Fatal(err)
	}
	v.Write("process.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	return "process.key"
}

func TestVendorFlow(t *testing.T) {
	v := newVendorCA(t)
	for _, tc := range []struct {
		name   string
		sans   []string
		upload func(t *testing.T, f *fixture, p *Process) Upload
		diffs  []string
	}{
		{"pfx", []string{"DNS:shop.example.test", "DNS:www.example.test"},
			func(t *testing.T, f *fixture, p *Process) Upload {
				return Upload{Data: v.PFX("pfx", f.exportKey(t, v, p), pfxPassword), Password: pfxPassword}
			},
			[]string{"missing: b.example.test", "extra: www.example.test"}},
		{"p7b", []string{"DNS:shop.example.test", "DNS:b.example.test"},
			func(t *testing.T, _ *fixture, _ *Process) Upload { return Upload{Data: v.P7B("p7b")} },
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{Trust: fixedRoots{v.Roots()}})
			ctx := t.Context()
			f.vendor(t, "vendorx", "ops-account", "ov")
			f.definition(t, "shop", "shop.example.test", "shop.example.test", "b.example.test")
			p := f.start(t, StartOptions{Definition: "shop", Issuer: "vendorx"})
			if p.Product == nil || p.Product.Name != "ov" {
				t.Fatalf("product = %+v, want the issuer's only product ov", p.Product)
			}
			csr, err := f.svc.CSR(ctx, actor, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			o, err := f.svc.RecordOrder(ctx, actor, p.ID, OrderInput{VendorAccount: "ops-account", Number: "ORD-4711",
				Notes: "paid by card"})
			if err != nil {
				t.Fatalf("RecordOrder: %v", err)
			}
			if o.State != inventory.StateOrdered || o.Order == nil || o.Order.Number != "ORD-4711" || o.Order.VendorAccountID == 0 ||
				o.Order.Date.IsZero() || o.Order.ProductID != p.ProductID {
				t.Fatalf("after RecordOrder: state %s, order %+v; want ordered with the order", o.State, o.Order)
			}

			v.Sign(tc.name, csr, "serverAuth", tc.sans...)
			val, err := f.svc.Upload(ctx, actor, p.ID, tc.upload(t, f, p))
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if diff := cmp.Diff(tc.diffs, val.Differences); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
			if val.Acquisition.State != inventory.StateIssued || val.Switched || val.Certificate.KeyID != p.KeyID ||
				val.Certificate.Source != object(p.ID) || len(val.Chain) != 3 || !val.Chain[2].Equal(v.Root) {
				t.Fatalf("Upload = state %s, switched %t, certificate %+v, chain %d; want issued, our key, chain to the vendor root",
					val.Acquisition.State, val.Switched, val.Certificate, len(val.Chain))
			}
			chain, err := f.st.Chain(ctx, val.Certificate.ID)
			if err != nil || len(chain) != 3 || chain[1].CommonName != "Vendor Test Issuing CA" {
				t.Errorf("stored chain = %d certificates, %v; want leaf, intermediate, root registered", len(chain), err)
			}
			done, err := f.svc.Switch(ctx, actor, p.ID)
			if err != nil {
				t.Fatalf("Switch: %v", err)
			}
			if got := f.definitionNamed(t, "shop").CurrentCertificateID; got != val.Certificate.ID || done.State != inventory.StateCompleted {
				t.Errorf("after Switch: state %s, current certificate %d; want completed, %d", done.State, got, val.Certificate.ID)
			}
			want := []string{"created", "key_generated", "csr_created", "issuer_chosen", "csr_downloaded", "ordered",
				"certificate_uploaded", "switched"}
			if diff := cmp.Diff(want, actions(done.Steps)); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			for _, a := range []string{"acquisition.order", "acquisition.upload", "acquisition.switch"} {
				if !f.hasAudit(t, a, object(p.ID)) {
					t.Errorf("no audit event %s", a)
				}
			}
			checkAuditClean(t, f)
		})
	}
}

// vendorProcess starts a process for definition "shop" with vendor
// "vendorx" (one product, ov) trusted through the stand-in vendor CA, and
// returns the request to have it sign.
func vendorProcess(t *testing.T, autoSwitch bool) (*testenv.OpenSSLCA, *fixture, *Process, []byte) {
	t.Helper()
	v := newVendorCA(t)
	f := newFixture(t, Config{Trust: fixedRoots{v.Roots()}})
	f.vendor(t, "vendorx", "", "ov")
	f.definition(t, "shop", "shop.example.test")
	p := f.start(t, StartOptions{Definition: "shop", Issuer: "vendorx", AutoSwitch: autoSwitch})
	csr, err := f.svc.CSR(t.Context(), actor, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return v, f, p, csr
}

func TestVendorUploadAutoSwitchFromCSRReady(t *testing.T) {
	v, f, p, csr := vendorProcess(t, true)
	v.Sign("leaf", csr, "serverAuth,clientAuth", "DNS:shop.example.test")
	// The leaf alone, its intermediate in a second file.
	val, err := f.svc.Upload(t.Context(), actor, p.ID, Upload{Data: v.Read("leaf.pem"),
		Intermediates: [][]byte{v.Read("intermediate.pem")}})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if !val.Switched || val.Acquisition.State != inventory.StateCompleted || len(val.Differences) != 0 {
		t.Fatalf("Upload = switched %t, state %s, differences %v; want an automatic switch, no differences",
			val.Switched, val.Acquisition.State, val.Differences)
	}
}

// TestVendorUploadCertificateOnlyPFX: a vendor's PFX of certificates
// without a key (openssl pkcs12 -export -nokeys) is read like any other
// upload.
func TestVendorUploadCertificateOnlyPFX(t *testing.T) {
	v, f, p, csr := vendorProcess(t, false)
	v.Sign("leaf", csr, "serverAuth", "DNS:shop.example.test")
	v.Run("pkcs12", "-export", "-nokeys", "-in", "leaf.pem", "-certfile", "intermediate.pem",
		"-passout", "pass:"+pfxPassword, "-out", "certs.pfx")
	val, err := f.svc.Upload(t.Context(), actor, p.ID, Upload{Data: v.Read("certs.pfx"), Password: pfxPassword})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if val.Acquisition.State != inventory.StateIssued || val.Certificate.KeyID != p.KeyID || len(val.Chain) != 3 {
		t.Errorf("Upload = state %s, key %d, chain %d; want issued with the process's key and a chain of 3",
			val.Acquisition.State, val.Certificate.KeyID, len(val.Chain))
	}
}

func TestVendorUploadRefused(t *testing.T) {
	v, f, p, csr := vendorProcess(t, false)
	v.Sign("good", csr, "serverAuth", "DNS:shop.example.test")
	v.Sign("client", csr, "clientAuth", "DNS:shop.example.test")
	v.Sign("stranger", v.ForeignCSR("other", "shop.example.test"), "serverAuth", "DNS:shop.example.test")
	stranger := testenv.ParseCertPEM(t, v.Read("stranger.pem"))
	v.Run("pkcs12", "-export", "-nokeys", "-in", "good.pem", "-passout", "pass:"+pfxPassword, "-out", "nokey.pfx")
	key := f.exportKey(t, v, p)
	untrusted := f.with(Config{Trust: fixedRoots{x509.NewCertPool()}})

	for _, tc := range []struct {
		name        string
		svc         *Service
		u           Upload
		field, want string
	}{
		{"other key", f.svc, Upload{Data: v.P7B("stranger")}, "data",
			"does not match this process's key (its public key SHA-256 is " + inventory.SHA256Hex(stranger.RawSubjectPublicKeyInfo)},
		{"untrusted root", untrusted, Upload{Data: v.P7B("good")}, "data", `no trusted root reached: the issuer "Vendor Test Root"`},
		{"no intermediate", f.svc, Upload{Data: v.Read("good.pem")}, "data", `the issuer "Vendor Test Issuing CA" of "shop.example.test"`},
		{"client only", f.svc, Upload{Data: v.P7B("client")}, "data", "key usage"},
		{"wrong password", f.svc, Upload{Data: v.PFX("good", key, pfxPassword), Password: "nope"}, "password", "wrong password"},
		{"no password", f.svc, Upload{Data: v.PFX("good", key, pfxPassword)}, "password", "give its password"},
		{"certificate-only pfx without its intermediate", f.svc, Upload{Data: v.Read("nokey.pfx"), Password: pfxPassword},
			"data", `the issuer "Vendor Test Issuing CA" of "shop.example.test"`},
		{"garbage", f.svc, Upload{Data: []byte("hello")}, "data", "not a recognised"},
		{"empty", f.svc, Upload{}, "data", "is empty"},
		{"too large", f.svc, Upload{Data: make([]byte, MaxUploadSize+1)}, "data", "the limit is"},
		{"bad intermediate", f.svc, Upload{Data: v.Read("good.pem"), Intermediates: [][]byte{[]byte("x")}},
			"intermediates", "file 1"},
		{"only CA certificates", f.svc, Upload{Data: v.Read("intermediate.pem")}, "data", "only CA certificates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.get(t, p.ID)
			n := certCount(t, f.st)
			_, err := tc.svc.Upload(t.Context(), actor, p.ID, tc.u)
			wantErr(t, err, inventory.ErrInvalid, tc.field, tc.want)
			if strings.Contains(err.Error(), pfxPassword) {
				t.Errorf("error %q shows the password", err)
			}
			f.unchanged(t, before)
			if got := certCount(t, f.st); got != n {
				t.Errorf("a refused upload registered certificates: %d, want %d", got, n)
			}
		})
	}
}

func TestRecordOrderRefused(t *testing.T) {
	f := newFixture(t, Config{})
	f.vendor(t, "vendorx", "ops", "ov")
	f.vendor(t, "vendory", "elsewhere", "dv")
	f.definition(t, "shop", "shop.example.test")
	p := f.start(t, StartOptions{Definition: "shop", Issuer: "vendorx"})
	for _, tc := range []struct {
		name        string
		o           OrderInput
		field, want string
	}{
		{"no number", OrderInput{VendorAccount: "ops"}, "number", "is empty"},
		{"long number", OrderInput{VendorAccount: "ops", Number: strings.Repeat("9", 129)}, "number", "the limit is 128"},
		{"two-line number", OrderInput{VendorAccount: "ops", Number: "1\n2"}, "number", "one line"},
		{"long notes", OrderInput{VendorAccount: "ops", Number: "1", Notes: strings.Repeat("n", 4001)}, "notes", "the limit is 4000"},
		{"no account", OrderInput{Number: "1"}, "vendor_account", "choose the account ordered with: ops"},
		{"unknown account", OrderInput{VendorAccount: "nope", Number: "1"}, "vendor_account", `no account "nope"`},
		{"other vendor's account", OrderInput{VendorAccount: "elsewhere", Number: "1"}, "vendor_account", "not an account at issuer vendorx"},
		{"other vendor's product", OrderInput{VendorAccount: "ops", Number: "1", Product: "dv"}, "product", "no product"},
		{"future", OrderInput{VendorAccount: "ops", Number: "1", Date: f.svc.cfg.Now().AddDate(0, 0, 3)}, "date", "future"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.get(t, p.ID)
			_, err := f.svc.RecordOrder(t.Context(), actor, p.ID, tc.o)
			wantErr(t, err, inventory.ErrInvalid, tc.field, tc.want)
			f.unchanged(t, before)
		})
	}
	if _, err := f.svc.RecordOrder(t.Context(), actor, p.ID, OrderInput{VendorAccount: "ops", Number: "1"}); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.RecordOrder(t.Context(), actor, p.ID, OrderInput{VendorAccount: "ops", Number: "2"})
	if err != nil {
		t.Fatalf("correcting the order: %v", err)
	}
	if got.Order.Number != "2" || !strings.HasPrefix(got.Steps[len(got.Steps)-1].Detail, "order corrected") {
		t.Errorf("corrected order %+v, last step %+v; want number 2 and a correction step", got.Order, got.Steps[len(got.Steps)-1])
	}
}

// checkAuditClean fails when an audit summary or step detail holds key
// material or a password.
func checkAuditClean(t *testing.T, f *fixture) {
	t.Helper()
	var texts []string
	for _, e := range f.audit(t) {
		texts = append(texts, e.Summary)
	}
	page, err := f.st.ListAcquisitions(t.Context(), inventory.AcquisitionFilter{}, inventory.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range page.Items {
		for _, s := range f.get(t, a.ID).Steps {
			texts = append(texts, s.Detail)
		}
	}
	for _, s := range texts {
		for _, secret := range []string{"PRIVATE KEY", pfxPassword, vendorPassword, "\n"} {
			if strings.Contains(s, secret) {
				t.Errorf("audit summary or step %q contains %q", s, secret)
			}
		}
	}
	if len(texts) == 0 {
		t.Error("no audit summaries or steps to check")
	}
}
