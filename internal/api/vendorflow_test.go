package api_test

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// flowSuite drives whole acquisition flows through the REST API with the
// public client only, the way an operator's tooling would; it runs on
// SQLite and on PostgreSQL.
var flowSuite = []struct {
	name string
	test func(t *testing.T, open opener)
}{
	{"builtin ca", testFlowBuiltin},
	{"vendor pfx and p7b", testFlowVendor},
	{"vendor key mismatch", testFlowVendorWrongKey},
	{"vendor name differences", testFlowVendorDifferences},
	{"vendor root trusted once an admin marks it", testFlowVendorRootMarked},
}

func runFlows(t *testing.T, open opener) {
	for _, s := range flowSuite {
		t.Run(s.name, func(t *testing.T) { s.test(t, open) })
	}
}

func TestFlowsSQLite(t *testing.T) { runFlows(t, openSQLite) }

func TestFlowsPostgres(t *testing.T) {
	if os.Getenv("CERTKEEPER_TEST_POSTGRES") == "" {
		testenv.Missing(t, "CERTKEEPER_TEST_POSTGRES is not set")
	}
	runFlows(t, openPostgres)
}

// flowPFXPassword protects the PFX the vendor sends; no response may show
// it.
const flowPFXPassword = "Vendor-Pfx-Transport-93"

// testFlowBuiltin: definition, start, issue, switch with the built-in CA.
func testFlowBuiltin(t *testing.T, open opener) {
	e := newEnv(t, open)
	ca, _, err := e.auth.EnsureDefault(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.catalogue.SyncBuiltin(ctx); err != nil {
		t.Fatal(err)
	}
	allowUsers(t, e, ca.ID, "example.test")
	def := &client.Definition{Name: "intranet", Subject: client.Subject{CommonName: "intranet.example.test", Organization: "Example"},
		SANs: []string{"intranet.example.test", "wiki.example.test"}, Requirements: client.Requirements{Issuer: ca.Name},
		Renewal: client.Renewal{DaysBefore: 20}}
	d, err := e.user.CreateDefinition(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.user.StartAcquisition(ctx, client.AcquisitionStart{DefinitionID: d.ID})
	if err != nil {
		t.Fatalf("StartAcquisition: %v", err)
	}
	if q.State != "csr_ready" || q.Kind != "new" || q.KeyID == 0 || q.CSRID == 0 || q.IssuerID == 0 || q.DefinitionID != d.ID {
		t.Fatalf("started = %+v; want a new csr_ready process with key, request and issuer", q)
	}
	v, err := e.user.Issue(ctx, q.ID)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if v.Acquisition.State != "issued" || v.Certificate == nil || v.Switched || len(v.Differences) != 0 || len(v.Chain) < 2 {
		t.Fatalf("Issue = %+v; want issued, not switched, no differences, a chain to the CA", v)
	}
	certID := v.Certificate.ID
	if cur, err := e.user.GetDefinition(ctx, d.ID); err != nil || cur.CurrentCertificateID != 0 {
		t.Errorf("definition before switch = %+v, %v; want no current certificate", cur, err)
	}
	done, err := e.user.Switch(ctx, q.ID)
	if err != nil || done.State != "completed" || done.CertificateID != certID {
		t.Fatalf("Switch = %+v, %v; want completed with certificate %d", done, err, certID)
	}

	got, err := e.user.GetDefinition(ctx, d.ID)
	if err != nil || got.CurrentCertificateID != certID {
		t.Fatalf("definition after switch = %+v, %v; want current certificate %d", got, err, certID)
	}
	c, err := e.user.GetCertificate(ctx, certID)
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyID != q.KeyID || !c.KeyHeld || c.Status != "valid" || c.IsCA ||
		!slices.Equal(sortedCopy(c.SANs), []string{"intranet.example.test", "wiki.example.test"}) {
		t.Errorf("issued certificate = %+v; want valid, key %d held, the definition's names", c, q.KeyID)
	}
	if leaf := testenv.ParseCertPEM(t, []byte(c.PEM)); !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		t.Errorf("issued certificate's extended key usage = %v, want serverAuth", leaf.ExtKeyUsage)
	}
	if len(c.ChainIDs) < 2 || c.IssuerCertificateID == 0 {
		t.Errorf("issued certificate chain %v, issuer %d; want the CA linked", c.ChainIDs, c.IssuerCertificateID)
	}
	k, err := e.user.GetKey(ctx, q.KeyID)
	if err != nil || k.Usage == nil || !slices.Equal(k.Usage.Certificates, []int64{certID}) ||
		!slices.Equal(k.Usage.Acquisitions, []int64{q.ID}) {
		t.Errorf("GetKey(%d) = %+v, %v; want used by certificate %d and process %d", q.KeyID, k, err, certID, q.ID)
	}
	p := e.getAcquisition(t, q.ID)
	want := []string{"created", "key_generated", "csr_created", "issuer_chosen", "issued", "switched"}
	if diff := cmp.Diff(want, stepActions(p)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	for _, s := range p.Steps {
		if s.Actor != "user:bob" || s.Time.IsZero() {
			t.Errorf("step %+v: want actor user:bob and a time", s)
		}
	}
	wantAudit(t, e, q.ID, "acquisition.start", "acquisition.issue", "acquisition.switch")
}

// vendorSetup is a manual-vendor issuer with one product and an account,
// made by the admin through the API.
type vendorSetup struct {
	issuer  *client.Issuer
	product *client.Product
	account *client.VendorAccount
}

func newVendorSetup(t *testing.T, e *env) vendorSetup {
	t.Helper()
	i, err := e.admin.CreateIssuer(ctx, client.Issuer{Name: "VendorX", Kind: "manual-vendor", URL: "https://vendorx.example"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.admin.CreateProduct(ctx, i.ID, client.Product{Name: "OV Multi", ValidationLevel: "OV", MaxNames: 5,
		MaxValidityDays: 398})
	if err != nil {
		t.Fatal(err)
	}
	pw := "Vendor-Login-Secret-5"
	a, err := e.admin.CreateVendorAccount(ctx, client.VendorAccountInput{IssuerID: i.ID, Name: "ops", Username: "ops@example.test",
		Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	return vendorSetup{i, p, a}
}

// vendorDefinition creates a definition requiring the vendor, for
// shop-NAME.example.test and www.shop-NAME.example.test.
func (vs vendorSetup) definition(t *testing.T, e *env, name string) *client.Definition {
	t.Helper()
	cn := name + ".example.test"
	d, err := e.user.CreateDefinition(ctx, &client.Definition{Name: name, Subject: client.Subject{CommonName: cn, Organization: "Example"},
		SANs: []string{cn, "www." + cn}, Requirements: client.Requirements{Issuer: vs.issuer.Name, ValidationLevel: "OV"},
		Renewal: client.Renewal{DaysBefore: 30}})
	if err != nil {
		t.Fatalf("CreateDefinition(%s): %v", name, err)
	}
	return d
}

// start starts a process for d and downloads its request, checking that
// it asks for the definition's names with the process's key.
func (vs vendorSetup) start(t *testing.T, e *env, d *client.Definition) (*client.Acquisition, []byte) {
	t.Helper()
	q, err := e.user.StartAcquisition(ctx, client.AcquisitionStart{DefinitionID: d.ID})
	if err != nil {
		t.Fatalf("StartAcquisition: %v", err)
	}
	if q.State != "csr_ready" || q.IssuerID != vs.issuer.ID || q.ProductID != vs.product.ID || q.KeyID == 0 {
		t.Fatalf("started = %+v; want csr_ready with issuer %d, its only product %d and a key", q, vs.issuer.ID, vs.product.ID)
	}
	csr, err := e.user.AcquisitionCSR(ctx, q.ID)
	if err != nil {
		t.Fatalf("AcquisitionCSR: %v", err)
	}
	b, _ := pem.Decode(csr)
	if b == nil || b.Type != "CERTIFICATE REQUEST" {
		t.Fatalf("AcquisitionCSR = %q, want a PEM request", csr)
	}
	req, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil || req.CheckSignature() != nil {
		t.Fatalf("request does not parse or verify: %v", err)
	}
	if !slices.Equal(sortedCopy(req.DNSNames), sortedCopy(d.SANs)) || req.Subject.CommonName != d.Subject.CommonName {
		t.Errorf("request names %v, CN %q; want %v, %q", req.DNSNames, req.Subject.CommonName, d.SANs, d.Subject.CommonName)
	}
	k, err := e.user.GetKey(ctx, q.KeyID)
	if err != nil || k.SPKISHA256 != inventory.SHA256Hex(req.RawSubjectPublicKeyInfo) {
		t.Errorf("request public key %s, process key %+v, %v; want the same", inventory.SHA256Hex(req.RawSubjectPublicKeyInfo), k, err)
	}
	return q, csr
}

// order records the vendor order of process id.
func (vs vendorSetup) order(t *testing.T, e *env, id int64, number string) {
	t.Helper()
	o, err := e.user.RecordOrder(ctx, id, client.OrderInput{VendorAccountID: vs.account.ID, Number: number, Notes: "paid by card"})
	if err != nil {
		t.Fatalf("RecordOrder: %v", err)
	}
	if o.State != "ordered" || o.Order == nil || o.Order.Number != number || o.Order.VendorAccountID != vs.account.ID ||
		o.Order.ProductID != vs.product.ID || o.Order.Date.IsZero() {
		t.Fatalf("after RecordOrder = %+v, order %+v; want ordered with the order", o, o.Order)
	}
}

// importRoot imports the openssl root alone through the certificate
// import, has the admin mark it as a trusted root, and returns its
// inventory ID.
func importRoot(t *testing.T, e *env, v *testenv.OpenSSLCA) int64 {
	t.Helper()
	id := importRootOnly(t, e, v)
	if _, err := e.admin.AddTrustRoot(ctx, id); err != nil {
		t.Fatalf("marking the vendor root as trusted: %v", err)
	}
	return id
}

// importRootOnly imports the openssl root as a user, without marking it.
func importRootOnly(t *testing.T, e *env, v *testenv.OpenSSLCA) int64 {
	t.Helper()
	res, err := e.user.ImportCertificates(ctx, client.CertificateImport{Data: v.Read("root.pem"), Labels: []string{"vendor-root"}})
	if err != nil || len(res.Certificates) != 1 || !res.Certificates[0].Added || res.Key != nil {
		t.Fatalf("importing the vendor root = %+v, %v; want one certificate added", res, err)
	}
	return res.Certificates[0].ID
}

// testFlowVendor: a manual-vendor process whose request is signed by
// openssl outside certkeeper, received once as a PFX and once as a P7B.
func testFlowVendor(t *testing.T, open opener) {
	v := newOpensslCA(t)
	e := newEnv(t, open)
	vs := newVendorSetup(t, e)
	rootID := importRoot(t, e, v)

	for _, tc := range []struct {
		name   string
		upload func(t *testing.T, q *client.Acquisition) client.Upload
	}{
		{"shop-pfx", func(t *testing.T, q *client.Acquisition) client.Upload {
			// A vendor-made PFX carries the key: the process's own, exported
			// by the admin.
			key, err := e.admin.ExportKey(ctx, q.KeyID, client.KeyExport{Format: "pem"})
			if err != nil {
				t.Fatalf("ExportKey: %v", err)
			}
			if b, _ := pem.Decode(key); b == nil || b.Type != "PRIVATE KEY" {
				t.Fatalf("exported key is not a PKCS#8 PEM key")
			}
			v.Write("shop-pfx.key", key)
			return client.Upload{Data: v.PFX("shop-pfx", "shop-pfx.key", flowPFXPassword), Password: flowPFXPassword}
		}},
		{"shop-p7b", func(t *testing.T, _ *client.Acquisition) client.Upload {
			return client.Upload{Data: v.P7B("shop-p7b")}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := vs.definition(t, e, tc.name)
			q, csr := vs.start(t, e, d)
			vs.order(t, e, q.ID, "ORD-"+tc.name)
			leaf := v.Sign(tc.name, csr, "serverAuth", "DNS:"+d.SANs[0], "DNS:"+d.SANs[1])

			val, err := e.user.UploadCertificate(ctx, q.ID, tc.upload(t, q))
			if err != nil {
				t.Fatalf("UploadCertificate: %v", err)
			}
			if val.Acquisition.State != "issued" || val.Switched || len(val.Differences) != 0 || val.Certificate == nil ||
				val.Certificate.KeyID != q.KeyID || val.Certificate.SHA256 != inventory.SHA256Hex(leaf.Raw) {
				t.Fatalf("UploadCertificate = state %s, switched %t, differences %v, certificate %+v; "+
					"want issued, not switched, no differences, the openssl leaf with key %d",
					val.Acquisition.State, val.Switched, val.Differences, val.Certificate, q.KeyID)
			}
			if len(val.Chain) != 3 || val.Chain[2].SHA256 != inventory.SHA256Hex(v.Root.Raw) ||
				!strings.Contains(val.Chain[1].Subject, opensslIntermediateCN) {
				t.Fatalf("chain = %+v; want leaf, %s, %s", val.Chain, opensslIntermediateCN, opensslRootCN)
			}
			certID := val.Certificate.ID
			if c := val.Certificate; c.Source != "acquisition:"+itoa(q.ID) || c.Status != "valid" {
				t.Errorf("registered certificate source %q, status %s; want acquisition:%d, valid", c.Source, c.Status, q.ID)
			}
			chain, err := e.user.CertificateChain(ctx, certID)
			if err != nil || len(chain.Items) != 3 || chain.Items[2].ID != rootID || !chain.Items[1].IsCA {
				t.Errorf("CertificateChain = %+v, %v; want leaf, intermediate, the imported root %d", chain, err, rootID)
			}

			done, err := e.user.Switch(ctx, q.ID)
			if err != nil || done.State != "completed" || done.CertificateID != certID {
				t.Fatalf("Switch = %+v, %v; want completed with %d", done, err, certID)
			}
			if got, err := e.user.GetDefinition(ctx, d.ID); err != nil || got.CurrentCertificateID != certID {
				t.Errorf("definition after switch = %+v, %v; want current %d", got, err, certID)
			}
			k, err := e.user.GetKey(ctx, q.KeyID)
			if err != nil || !slices.Equal(k.Usage.Certificates, []int64{certID}) || !slices.Equal(k.Usage.Acquisitions, []int64{q.ID}) {
				t.Errorf("GetKey = %+v, %v; want used by certificate %d and process %d", k, err, certID, q.ID)
			}
			want := []string{"created", "key_generated", "csr_created", "issuer_chosen", "csr_downloaded", "ordered",
				"certificate_uploaded", "switched"}
			if diff := cmp.Diff(want, stepActions(e.getAcquisition(t, q.ID))); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			wantAudit(t, e, q.ID, "acquisition.start", "acquisition.csr_download", "acquisition.order",
				"acquisition.upload", "acquisition.switch")
		})
	}
	// The root was imported once and reused; the intermediate came with
	// both uploads and is stored once.
	roots, err := e.user.ListCertificates(ctx, client.CertificateQuery{Q: opensslRootCN})
	if err != nil || len(roots.Items) != 1 || roots.Items[0].ID != rootID {
		t.Errorf("certificates named %q = %+v, %v; want the imported root only", opensslRootCN, roots, err)
	}
	yes := true
	cas, err := e.user.ListCertificates(ctx, client.CertificateQuery{Q: opensslIntermediateCN, CA: &yes})
	if err != nil || len(cas.Items) != 1 {
		t.Errorf("certificates named %q = %+v, %v; want one", opensslIntermediateCN, cas, err)
	}
	if e.rec.contains(flowPFXPassword) {
		t.Error("a response shows the PFX password")
	}
	checkAuditNoSecrets(t, e, flowPFXPassword)
}

// testFlowVendorWrongKey: a certificate for a key the process does not
// hold is refused as bad "data", and the refusal changes nothing.
func testFlowVendorWrongKey(t *testing.T, open opener) {
	v := newOpensslCA(t)
	e := newEnv(t, open)
	vs := newVendorSetup(t, e)
	importRoot(t, e, v)
	d := vs.definition(t, e, "shop-mismatch")
	q, csr := vs.start(t, e, d)
	vs.order(t, e, q.ID, "ORD-1")
	stranger := v.Sign("stranger", v.ForeignCSR("stranger", d.Subject.CommonName), "serverAuth", "DNS:"+d.SANs[0], "DNS:"+d.SANs[1])

	before := e.getAcquisition(t, q.ID)
	n := certificateCount(t, e)
	_, err := e.user.UploadCertificate(ctx, q.ID, client.Upload{Data: v.P7B("stranger")})
	p := wantProblem(t, err, http.StatusUnprocessableEntity)
	strangerSPKI := inventory.SHA256Hex(stranger.RawSubjectPublicKeyInfo)
	if len(p.Errors) != 1 || p.Errors[0].Field != "data" || !strings.Contains(p.Errors[0].Detail, "does not match this process's key") ||
		!strings.Contains(p.Errors[0].Detail, strangerSPKI) {
		t.Errorf("problem = %+v; want field data naming the key mismatch and public key %s", p, strangerSPKI)
	}
	after := e.getAcquisition(t, q.ID)
	if after.State != before.State || after.Version != before.Version || len(after.Steps) != len(before.Steps) ||
		after.CertificateID != 0 {
		t.Errorf("after a refused upload: state %s, version %d, %d steps, certificate %d; want %s, %d, %d steps, none",
			after.State, after.Version, len(after.Steps), after.CertificateID, before.State, before.Version, len(before.Steps))
	}
	if got := certificateCount(t, e); got != n {
		t.Errorf("%d certificates after a refused upload, want %d", got, n)
	}
	if e.auditCount(t, "acquisition.upload") != 0 {
		t.Error("a refused upload was audited as an upload")
	}

	// The process still takes the right certificate.
	v.Sign("right", csr, "serverAuth", "DNS:"+d.SANs[0], "DNS:"+d.SANs[1])
	val, err := e.user.UploadCertificate(ctx, q.ID, client.Upload{Data: v.Read("right.pem"),
		Intermediates: [][]byte{v.Read("intermediate.pem")}})
	if err != nil || val.Acquisition.State != "issued" || len(val.Chain) != 3 {
		t.Fatalf("UploadCertificate(right key) = %+v, %v; want issued with a chain of 3", val, err)
	}
}

// testFlowVendorDifferences: a vendor certificate with one of the
// definition's names missing and one extra is registered, the
// differences listed.
func testFlowVendorDifferences(t *testing.T, open opener) {
	v := newOpensslCA(t)
	e := newEnv(t, open)
	vs := newVendorSetup(t, e)
	importRoot(t, e, v)
	d := vs.definition(t, e, "shop-names")
	q, csr := vs.start(t, e, d)
	vs.order(t, e, q.ID, "ORD-2")
	v.Sign("names", csr, "serverAuth", "DNS:"+d.Subject.CommonName, "DNS:api.shop-names.example.test")

	val, err := e.user.UploadCertificate(ctx, q.ID, client.Upload{Data: v.P7B("names")})
	if err != nil {
		t.Fatalf("UploadCertificate: %v", err)
	}
	want := []string{"missing: www.shop-names.example.test", "extra: api.shop-names.example.test"}
	if diff := cmp.Diff(want, val.Differences); diff != "" {
		t.Errorf("differences (-want +got):\n%s", diff)
	}
	if val.Acquisition.State != "issued" || val.Certificate == nil || len(val.Chain) != 3 {
		t.Fatalf("UploadCertificate = %+v; want issued with a chain of 3", val)
	}
	if diff := cmp.Diff(want, e.getAcquisition(t, q.ID).Differences); diff != "" {
		t.Errorf("stored differences (-want +got):\n%s", diff)
	}
	if done, err := e.user.Switch(ctx, q.ID); err != nil || done.State != "completed" {
		t.Errorf("Switch = %+v, %v; want completed despite the differences", done, err)
	}
}

// testFlowVendorRootMarked: the vendor root is trusted because, and once,
// an admin marks it. Before, an upload is refused as bad "data" naming
// the root, even when the upload carries the root itself or a user
// imported it, and changes nothing; a user cannot mark it.
func testFlowVendorRootMarked(t *testing.T, open opener) {
	v := newOpensslCA(t)
	e := newEnv(t, open)
	vs := newVendorSetup(t, e)
	d := vs.definition(t, e, "shop-trust")
	q, csr := vs.start(t, e, d)
	v.Sign("trust", csr, "serverAuth", "DNS:"+d.SANs[0], "DNS:"+d.SANs[1])
	before := e.getAcquisition(t, q.ID)
	n := certificateCount(t, e)
	refused := func(when string) {
		t.Helper()
		for name, data := range map[string][]byte{
			"leaf and intermediate":       v.P7B("trust"),
			"leaf, intermediate and root": v.P7B("trust", "root.pem"),
		} {
			_, err := e.user.UploadCertificate(ctx, q.ID, client.Upload{Data: data})
			p := wantProblem(t, err, http.StatusUnprocessableEntity)
			if len(p.Errors) != 1 || p.Errors[0].Field != "data" || !strings.Contains(p.Errors[0].Detail, "no trusted root reached") ||
				!strings.Contains(p.Errors[0].Detail, opensslRootCN) {
				t.Errorf("%s, %s: problem = %+v; want field data: no trusted root reached, naming %s", name, when, p, opensslRootCN)
			}
		}
	}
	refused("root not imported")
	if after := e.getAcquisition(t, q.ID); after.State != "csr_ready" || after.Version != before.Version ||
		len(after.Steps) != len(before.Steps) {
		t.Errorf("after refused uploads: %+v; want unchanged", after)
	}
	if got := certificateCount(t, e); got != n {
		t.Errorf("%d certificates after refused uploads, want %d", got, n)
	}

	rootID := importRootOnly(t, e, v)
	refused("root imported by a user")
	_, err := e.user.AddTrustRoot(ctx, rootID)
	wantProblem(t, err, http.StatusForbidden)
	if _, err := e.admin.AddTrustRoot(ctx, rootID); err != nil {
		t.Fatalf("admin marks the root: %v", err)
	}
	val, err := e.user.UploadCertificate(ctx, q.ID, client.Upload{Data: v.P7B("trust")})
	if err != nil {
		t.Fatalf("UploadCertificate after marking the root: %v", err)
	}
	if val.Acquisition.State != "issued" || len(val.Chain) != 3 || val.Chain[2].SHA256 != inventory.SHA256Hex(v.Root.Raw) {
		t.Fatalf("UploadCertificate after marking the root = %+v; want issued with a chain to the root", val)
	}
	chain, err := e.user.CertificateChain(ctx, val.Certificate.ID)
	if err != nil || len(chain.Items) != 3 || chain.Items[2].ID != rootID {
		t.Errorf("CertificateChain = %+v, %v; want leaf, intermediate, the imported root %d", chain, err, rootID)
	}
}

func (e *env) getAcquisition(t *testing.T, id int64) *client.Acquisition {
	t.Helper()
	q, err := e.user.GetAcquisition(ctx, id)
	if err != nil {
		t.Fatalf("GetAcquisition(%d): %v", id, err)
	}
	return q
}

func stepActions(q *client.Acquisition) []string {
	var out []string
	for _, s := range q.Steps {
		out = append(out, s.Action)
	}
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// certificateCount counts every certificate GET /certificates lists.
func certificateCount(t *testing.T, e *env) int {
	t.Helper()
	n := 0
	q := client.CertificateQuery{Page: client.Page{Limit: 1000}}
	for {
		l, err := e.user.ListCertificates(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(l.Items)
		if l.Next == "" {
			return n
		}
		q.After = l.Next
	}
}

// auditOf returns the audit events on process id, read through the API.
func auditOf(t *testing.T, e *env, id int64) []client.AuditEvent {
	t.Helper()
	var out []client.AuditEvent
	q := client.AuditQuery{Page: client.Page{Limit: 1000}}
	for {
		l, err := e.user.ListAudit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range l.Items {
			if ev.Object == "acquisition:"+itoa(id) {
				out = append(out, ev)
			}
		}
		if l.Next == "" {
			return out
		}
		q.After = l.Next
	}
}

// wantAudit checks that the audit trail holds the actions on process id,
// in that order, by user:bob.
func wantAudit(t *testing.T, e *env, id int64, actions ...string) {
	t.Helper()
	var got []string
	for _, ev := range auditOf(t, e, id) {
		got = append(got, ev.Action)
		if ev.Actor != "user:bob" {
			t.Errorf("audit event %+v: want actor user:bob", ev)
		}
	}
	if diff := cmp.Diff(actions, got); diff != "" {
		t.Errorf("audit of acquisition:%d (-want +got):\n%s", id, diff)
	}
}

// checkAuditNoSecrets fails when an audit summary holds key material or
// one of secrets.
func checkAuditNoSecrets(t *testing.T, e *env, secrets ...string) {
	t.Helper()
	q := client.AuditQuery{Page: client.Page{Limit: 1000}}
	for {
		l, err := e.user.ListAudit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range l.Items {
			for _, s := range append([]string{"PRIVATE KEY"}, secrets...) {
				if strings.Contains(ev.Summary, s) {
					t.Errorf("audit event %+v holds %q", ev, s)
				}
			}
		}
		if l.Next == "" {
			return
		}
		q.After = l.Next
	}
}
