package acquisition

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// pfxPassword protects the PFX a vendor sends; it must never show.
const pfxPassword = "Pfx-Transport-Secret-71"

// vendorCA is a commercial CA played by the openssl command: a root and
// an issuing intermediate in a temporary directory.
type vendorCA struct {
	openssl string
	dir     string
	root    *x509.Certificate
}

const reqConfig = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
`

const intermediateExt = `basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`

func newVendorCA(t *testing.T) *vendorCA {
	t.Helper()
	v := &vendorCA{openssl: testenv.Command(t, "openssl"), dir: t.TempDir()}
	v.write(t, "req.cnf", []byte(reqConfig))
	v.write(t, "intermediate.ext", []byte(intermediateExt))
	ec := []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"}
	v.run(t, append([]string{"req", "-x509", "-config", "req.cnf", "-extensions", "root", "-subj", "/O=Vendor Test/CN=Vendor Test Root",
		"-days", "30", "-keyout", "root.key", "-out", "root.pem"}, ec...)...)
	v.run(t, append([]string{"req", "-new", "-config", "req.cnf", "-subj", "/O=Vendor Test/CN=Vendor Test Issuing CA",
		"-keyout", "intermediate.key", "-out", "intermediate.csr"}, ec...)...)
	v.run(t, "x509", "-req", "-in", "intermediate.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "0x1001",
		"-days", "20", "-sha256", "-extfile", "intermediate.ext", "-out", "intermediate.pem")
	v.root = parsePEMCert(t, v.read(t, "root.pem"))
	return v
}

func (v *vendorCA) run(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), v.openssl, args...)
	cmd.Dir = v.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (v *vendorCA) write(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(v.dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (v *vendorCA) read(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(v.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (v *vendorCA) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(v.root)
	return p
}

// sign signs the PEM request csr for sans ("DNS:a.example", "IP:10.0.0.1")
// with the given extended key usage, as base.pem.
func (v *vendorCA) sign(t *testing.T, base string, csr []byte, eku string, sans ...string) {
	t.Helper()
	v.write(t, base+".csr", csr)
	v.write(t, base+".ext", []byte("basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n"+
		"extendedKeyUsage = "+eku+"\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"+
		"subjectAltName = "+strings.Join(sans, ",")+"\n"))
	serial := make([]byte, 8)
	copy(serial, base)
	v.run(t, "x509", "-req", "-in", base+".csr", "-CA", "intermediate.pem", "-CAkey", "intermediate.key",
		"-set_serial", "0x7f"+hex.EncodeToString(serial), "-days", "10", "-sha256", "-extfile", base+".ext", "-out", base+".pem")
}

// pfx bundles base.pem with the intermediate and the key in keyFile.
func (v *vendorCA) pfx(t *testing.T, base, keyFile string) []byte {
	t.Helper()
	v.run(t, "pkcs12", "-export", "-in", base+".pem", "-inkey", keyFile, "-certfile", "intermediate.pem",
		"-passout", "pass:"+pfxPassword, "-out", base+".pfx")
	return v.read(t, base+".pfx")
}

// p7b bundles base.pem and the intermediate in a DER PKCS#7 file.
func (v *vendorCA) p7b(t *testing.T, base string) []byte {
	t.Helper()
	v.run(t, "crl2pkcs7", "-nocrl", "-certfile", base+".pem", "-certfile", "intermediate.pem", "-outform", "DER",
		"-out", base+".p7b")
	return v.read(t, base+".p7b")
}

// otherCSR makes a request for a key the process does not hold.
func (v *vendorCA) otherCSR(t *testing.T) []byte {
	t.Helper()
	v.run(t, "req", "-new", "-config", "req.cnf", "-subj", "/CN=shop.example.test", "-newkey", "ec",
		"-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "other.key", "-out", "other.csr")
	return v.read(t, "other.csr")
}

func parsePEMCert(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("no PEM block in %q", data)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// exportKey writes the process's private key as PKCS#8 PEM, as the
// vendor's PFX tool needs it, and returns the file name.
func (f *fixture) exportKey(t *testing.T, v *vendorCA, p *Process) string {
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
	v.write(t, "process.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
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
				return Upload{Data: v.pfx(t, "pfx", f.exportKey(t, v, p)), Password: pfxPassword}
			},
			[]string{"missing: b.example.test", "extra: www.example.test"}},
		{"p7b", []string{"DNS:shop.example.test", "DNS:b.example.test"},
			func(t *testing.T, _ *fixture, _ *Process) Upload { return Upload{Data: v.p7b(t, "p7b")} },
			nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, Config{Roots: v.roots()})
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

			v.sign(t, tc.name, csr, "serverAuth", tc.sans...)
			val, err := f.svc.Upload(ctx, actor, p.ID, tc.upload(t, f, p))
			if err != nil {
				t.Fatalf("Upload: %v", err)
			}
			if diff := cmp.Diff(tc.diffs, val.Differences); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
			if val.Acquisition.State != inventory.StateIssued || val.Switched || val.Certificate.KeyID != p.KeyID ||
				val.Certificate.Source != object(p.ID) || len(val.Chain) != 3 || !val.Chain[2].Equal(v.root) {
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

func TestVendorUploadAutoSwitchFromCSRReady(t *testing.T) {
	v := newVendorCA(t)
	f := newFixture(t, Config{Roots: v.roots()})
	f.vendor(t, "vendorx", "", "ov")
	f.definition(t, "shop", "shop.example.test")
	p := f.start(t, StartOptions{Definition: "shop", Issuer: "vendorx", AutoSwitch: true})
	csr, err := f.svc.CSR(t.Context(), actor, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	v.sign(t, "leaf", csr, "serverAuth,clientAuth", "DNS:shop.example.test")
	// The leaf alone, its intermediate in a second file.
	val, err := f.svc.Upload(t.Context(), actor, p.ID, Upload{Data: v.read(t, "leaf.pem"),
		Intermediates: [][]byte{v.read(t, "intermediate.pem")}})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if !val.Switched || val.Acquisition.State != inventory.StateCompleted || len(val.Differences) != 0 {
		t.Fatalf("Upload = switched %t, state %s, differences %v; want an automatic switch, no differences",
			val.Switched, val.Acquisition.State, val.Differences)
	}
}

func TestVendorUploadRefused(t *testing.T) {
	v := newVendorCA(t)
	f := newFixture(t, Config{Roots: v.roots()})
	f.vendor(t, "vendorx", "", "ov")
	f.definition(t, "shop", "shop.example.test")
	p := f.start(t, StartOptions{Definition: "shop", Issuer: "vendorx"})
	csr, err := f.svc.CSR(t.Context(), actor, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	v.sign(t, "good", csr, "serverAuth", "DNS:shop.example.test")
	v.sign(t, "client", csr, "clientAuth", "DNS:shop.example.test")
	v.sign(t, "stranger", v.otherCSR(t), "serverAuth", "DNS:shop.example.test")
	stranger := parsePEMCert(t, v.read(t, "stranger.pem"))
	v.run(t, "pkcs12", "-export", "-nokeys", "-in", "good.pem", "-passout", "pass:"+pfxPassword, "-out", "nokey.pfx")
	key := f.exportKey(t, v, p)
	untrusted := f.with(Config{Roots: x509.NewCertPool()})

	for _, tc := range []struct {
		name        string
		svc         *Service
		u           Upload
		field, want string
	}{
		{"other key", f.svc, Upload{Data: v.p7b(t, "stranger")}, "data",
			"does not match this process's key (its public key SHA-256 is " + inventory.SHA256Hex(stranger.RawSubjectPublicKeyInfo)},
		{"untrusted root", untrusted, Upload{Data: v.p7b(t, "good")}, "data", `no trusted root reached: the issuer "Vendor Test Root"`},
		{"no intermediate", f.svc, Upload{Data: v.read(t, "good.pem")}, "data", `the issuer "Vendor Test Issuing CA" of "shop.example.test"`},
		{"client only", f.svc, Upload{Data: v.p7b(t, "client")}, "data", "key usage"},
		{"wrong password", f.svc, Upload{Data: v.pfx(t, "good", key), Password: "nope"}, "password", "wrong password"},
		{"no password", f.svc, Upload{Data: v.pfx(t, "good", key)}, "password", "give its password"},
		{"certificate-only pfx", f.svc, Upload{Data: v.read(t, "nokey.pfx"), Password: pfxPassword}, "data", "pkcs12"},
		{"garbage", f.svc, Upload{Data: []byte("hello")}, "data", "not a recognised"},
		{"empty", f.svc, Upload{}, "data", "is empty"},
		{"too large", f.svc, Upload{Data: make([]byte, MaxUploadSize+1)}, "data", "the limit is"},
		{"bad intermediate", f.svc, Upload{Data: v.read(t, "good.pem"), Intermediates: [][]byte{[]byte("x")}},
			"intermediates", "file 1"},
		{"only CA certificates", f.svc, Upload{Data: v.read(t, "intermediate.pem")}, "data", "only CA certificates"},
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
