package api_test

import (
	"archive/zip"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// caSuite is the tests of the CA and dashboard routes.
var caSuite = []struct {
	name string
	test func(t *testing.T, e *env)
}{
	{"get CA", testGetCA},
	{"issue from CA", testIssueFromCA},
	{"issue refusals", testIssueRefusals},
	{"revoke", testRevoke},
	{"installer", testInstaller},
	{"dashboard", testDashboard},
}

func TestCAsSQLite(t *testing.T) { runCASuite(t, openSQLite) }

func TestCAsPostgres(t *testing.T) {
	if os.Getenv("CERTKEEPER_TEST_POSTGRES") == "" {
		testenv.Missing(t, "CERTKEEPER_TEST_POSTGRES is not set")
	}
	runCASuite(t, openPostgres)
}

func runCASuite(t *testing.T, open opener) {
	for _, s := range caSuite {
		t.Run(s.name, func(t *testing.T) { s.test(t, newEnv(t, open)) })
	}
}

// defaultCA creates the default CA and returns it as the API shows it.
func defaultCA(t *testing.T, e *env) *client.CA {
	t.Helper()
	rec, _, err := e.auth.EnsureDefault(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.user.GetCA(ctx, rec.ID)
	if err != nil {
		t.Fatalf("GetCA(%d) = %v", rec.ID, err)
	}
	return c
}

func testGetCA(t *testing.T, e *env) {
	c := defaultCA(t, e)
	if c.Status != "active" || !c.Default || c.ParentID == 0 || c.Root || c.NotAfter == nil || c.KeyAlgorithm == "" {
		t.Errorf("GetCA = %+v; want the active default intermediate with its certificate's fields", c)
	}
	if len(c.Chain) != 2 || c.Chain[0].ID != c.CertificateID || !c.Chain[1].SelfSigned || c.Chain[1].PEM == "" {
		t.Errorf("chain = %+v; want the intermediate then the self-signed root, with PEM", c.Chain)
	}
	if want := "/pki/crl/" + itoa(c.ID) + ".crl"; c.CRLURL != want {
		t.Errorf("CRLURL = %q, want %q", c.CRLURL, want)
	}
	list, err := e.user.ListCAs(ctx)
	if err != nil || len(list.Items) != 2 {
		t.Fatalf("ListCAs = %+v, %v; want the root and the intermediate", list, err)
	}
	for _, x := range list.Items {
		if x.Subject == "" || x.Chain != nil {
			t.Errorf("listed CA %+v; want its subject and no chain", x)
		}
	}
	if _, err := e.user.GetCA(ctx, 999999); !client.IsNotFound(err) {
		t.Errorf("GetCA(999999) = %v, want 404", err)
	}
}

// issue has the default CA issue a tls-server certificate for name.
func issue(t *testing.T, e *env, caID int64, name string) *client.Certificate {
	t.Helper()
	c, err := e.admin.IssueFromCA(ctx, caID, client.CAIssue{DNSNames: []string{name}, Labels: []string{"lab"}})
	if err != nil {
		t.Fatalf("IssueFromCA(%s) = %v", name, err)
	}
	return c
}

func testIssueFromCA(t *testing.T, e *env) {
	c := defaultCA(t, e)
	got, err := e.admin.IssueFromCA(ctx, c.ID, client.CAIssue{CommonName: "app.example.test",
		DNSNames: []string{"app.example.test"}, IPAddresses: []string{"10.1.2.3"}, ValidityDays: 30,
		KeyType: "rsa-2048", Labels: []string{"lab"}})
	if err != nil {
		t.Fatalf("IssueFromCA = %v", err)
	}
	if !got.KeyHeld || got.KeyAlgorithm != "rsa" || got.IssuerCertificateID != c.CertificateID ||
		got.Status != "valid" || len(got.ChainIDs) != 3 || !slices.Equal(got.Labels, []string{"lab"}) {
		t.Errorf("issued = %+v; want a valid RSA certificate with its key held, issued by %d, labelled", got, c.CertificateID)
	}
	if d := got.NotAfter.Sub(got.NotBefore); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Errorf("validity = %v, want 30 days", d)
	}
	verifyIssued(t, got, c)
	if _, err := e.user.IssueFromCA(ctx, c.ID, client.CAIssue{DNSNames: []string{"x.example.test"}}); !client.IsForbidden(err) {
		t.Errorf("IssueFromCA as user = %v, want 403", err)
	}
	if _, err := e.admin.IssueFromCA(ctx, 999999, client.CAIssue{DNSNames: []string{"x.example.test"}}); !client.IsNotFound(err) {
		t.Errorf("IssueFromCA(999999) = %v, want 404", err)
	}
	list, err := e.admin.ListAudit(ctx, client.AuditQuery{})
	if err != nil || !hasAudit(list, "ca.issue", "user:ada") {
		t.Errorf("audit = %+v, %v; want ca.issue by user:ada", list, err)
	}
}

// verifyIssued checks that the issued certificate verifies against the
// CA's chain for its names.
func verifyIssued(t *testing.T, got *client.Certificate, c *client.CA) {
	t.Helper()
	leaf := parsePEM(t, got.PEM)
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for i, x := range c.Chain {
		if i == len(c.Chain)-1 {
			roots.AddCert(parsePEM(t, x.PEM))
		} else {
			inter.AddCert(parsePEM(t, x.PEM))
		}
	}
	for _, name := range []string{"app.example.test", "10.1.2.3"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter}); err != nil {
			t.Errorf("issued certificate for %s does not verify against the CA chain: %v", name, err)
		}
	}
}

func parsePEM(t *testing.T, s string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		t.Fatalf("no PEM block in %q", s)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func hasAudit(l *client.AuditList, action, actor string) bool {
	for _, e := range l.Items {
		if e.Action == action && e.Actor == actor {
			return true
		}
	}
	return false
}

func testIssueRefusals(t *testing.T, e *env) {
	c := defaultCA(t, e)
	name := []string{"ok.example.test"}
	for _, tc := range []struct {
		name  string
		in    client.CAIssue
		field string
	}{
		{"no names", client.CAIssue{CommonName: "x"}, "dns_names"},
		{"sub-CA profile", client.CAIssue{DNSNames: name, Profile: "sub-ca"}, "profile"},
		{"unknown profile", client.CAIssue{DNSNames: name, Profile: "code-signing"}, "profile"},
		{"unknown key type", client.CAIssue{DNSNames: name, KeyType: "dsa-1024"}, "key_type"},
		{"negative validity", client.CAIssue{DNSNames: name, ValidityDays: -1}, "validity_days"},
		{"validity over the profile's", client.CAIssue{DNSNames: name, ValidityDays: 900}, "validity_days"},
		{"bad IP", client.CAIssue{DNSNames: name, IPAddresses: []string{"10.0.0.300"}}, "ip_addresses"},
		{"bad DNS name", client.CAIssue{DNSNames: []string{"-bad.example.test"}}, "dns_names"},
		{"common name not a name", client.CAIssue{DNSNames: name, CommonName: "other.example.test"}, "common_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.admin.IssueFromCA(ctx, c.ID, tc.in)
			p := wantProblem(t, err, http.StatusUnprocessableEntity)
			if len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
				t.Errorf("problem = %+v; want field %s", p, tc.field)
			}
		})
	}
	testPolicyRefusal(t, e)
}

// testPolicyRefusal asks a CA with a name policy for names outside it.
func testPolicyRefusal(t *testing.T, e *env) {
	rec, err := e.auth.Init(ctx, ca.InitOptions{Name: "corp", Policy: inventory.NamePolicy{
		PermittedDNSDomains: []string{"corp.example"}, PermittedIPRanges: []string{"10.0.0.0/8"}}})
	if err != nil {
		t.Fatal(err)
	}
	for field, in := range map[string]client.CAIssue{
		"dns_names":    {DNSNames: []string{"www.elsewhere.test"}},
		"ip_addresses": {DNSNames: []string{"a.corp.example"}, IPAddresses: []string{"192.0.2.1"}},
	} {
		_, err := e.admin.IssueFromCA(ctx, rec.ID, in)
		p := wantProblem(t, err, http.StatusUnprocessableEntity)
		if len(p.Errors) != 1 || p.Errors[0].Field != field || p.Errors[0].Rule != ca.RuleNamePolicy || !strings.Contains(p.Detail, "may not sign for") {
			t.Errorf("outside the policy: problem = %+v; want field %s and the policy refusal", p, field)
		}
	}
	if _, err := e.admin.IssueFromCA(ctx, rec.ID, client.CAIssue{DNSNames: []string{"a.corp.example"}}); err != nil {
		t.Errorf("inside the policy: %v", err)
	}
}

func testRevoke(t *testing.T, e *env) {
	c := defaultCA(t, e)
	cert := issue(t, e, c.ID, "gone.example.test")
	if got, err := e.user.GetCertificate(ctx, cert.ID); err != nil || got.IssuedByCAID != c.ID {
		t.Errorf("GetCertificate of a certificate the CA issued = %+v, %v; want issued_by_ca_id %d", got, err, c.ID)
	}
	before, err := e.user.GetCRLStatus(ctx, c.ID)
	if err != nil || before.Number == 0 || before.Entries != 0 || before.CAID != c.ID || before.URL != c.CRLURL {
		t.Fatalf("GetCRLStatus = %+v, %v; want a first CRL without entries", before, err)
	}
	if _, err := e.user.RevokeCertificate(ctx, cert.ID, client.Revoke{}); !client.IsForbidden(err) {
		t.Errorf("RevokeCertificate as user = %v, want 403", err)
	}
	_, err = e.admin.RevokeCertificate(ctx, cert.ID, client.Revoke{Reason: "certificateHold"})
	if p := wantProblem(t, err, http.StatusUnprocessableEntity); len(p.Errors) != 1 || p.Errors[0].Field != "reason" {
		t.Errorf("certificateHold: problem = %+v; want field reason", p)
	}
	got, err := e.admin.RevokeCertificate(ctx, cert.ID, client.Revoke{Reason: "keyCompromise"})
	if err != nil || got.Status != "revoked" || got.RevokedAt == nil {
		t.Fatalf("RevokeCertificate = %+v, %v; want it revoked", got, err)
	}
	if again, err := e.user.GetCertificate(ctx, cert.ID); err != nil || again.Status != "revoked" {
		t.Errorf("GetCertificate after revoking = %+v, %v; want revoked", again, err)
	}
	after, err := e.user.GetCRLStatus(ctx, c.ID)
	if err != nil || after.Entries != before.Entries+1 || after.Number <= before.Number {
		t.Errorf("CRL after revoking = %+v, %v; want one more entry than %+v and a higher number", after, err, before)
	}
	if _, err := e.admin.RevokeCertificate(ctx, cert.ID, client.Revoke{}); !client.IsConflict(err) {
		t.Errorf("second RevokeCertificate = %v, want 409", err)
	}
	if _, err := e.admin.RevokeCertificate(ctx, 999999, client.Revoke{}); !client.IsNotFound(err) {
		t.Errorf("RevokeCertificate(999999) = %v, want 404", err)
	}
	foreign := storeCert(t, e, "outside.example.test", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	_, err = e.admin.RevokeCertificate(ctx, foreign, client.Revoke{})
	if p := wantProblem(t, err, http.StatusConflict); !strings.Contains(p.Detail, "not issued by a certkeeper CA") {
		t.Errorf("revoking an outside certificate: %q; want it to say it was not issued by a certkeeper CA", p.Detail)
	}
}

func testInstaller(t *testing.T, e *env) {
	c := defaultCA(t, e)
	data, name, err := e.user.CAInstaller(ctx, c.ID)
	if err != nil {
		t.Fatalf("CAInstaller = %v", err)
	}
	if !strings.HasSuffix(name, ".zip") {
		t.Errorf("file name = %q, want a .zip", name)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("installer is not a zip: %v", err)
	}
	root := parsePEM(t, c.Chain[len(c.Chain)-1].PEM)
	found := false
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".cer") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		der, err := io.ReadAll(rc)
		rc.Close()
		found = err == nil && bytes.Equal(der, root.Raw)
	}
	if !found {
		t.Errorf("installer files %v hold no DER copy of the root %s", zipNames(zr), root.Subject)
	}
	if _, _, err := e.user.CAInstaller(ctx, 999999); !client.IsNotFound(err) {
		t.Errorf("CAInstaller(999999) = %v, want 404", err)
	}
}

func zipNames(zr *zip.Reader) []string {
	var out []string
	for _, f := range zr.File {
		out = append(out, f.Name)
	}
	return out
}

// storeCert stores a self-signed leaf certificate and returns its ID.
func storeCert(t *testing.T, e *env, cn string, notBefore, notAfter time.Time) int64 {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.st.PutCertificates(ctx, []*inventory.Certificate{inventory.NewCertificate(c, "test")})
	if err != nil {
		t.Fatal(err)
	}
	return res[0].ID
}

func testDashboard(t *testing.T, e *env) {
	c := defaultCA(t, e) // two valid CA certificates
	revoked := issue(t, e, c.ID, "revoked.example.test")
	if _, err := e.admin.RevokeCertificate(ctx, revoked.ID, client.Revoke{}); err != nil {
		t.Fatal(err)
	}
	issue(t, e, c.ID, "year.example.test") // valid for 365 days
	now := time.Now()
	storeCert(t, e, "old.example.test", now.Add(-90*day), now.Add(-2*day))
	storeCert(t, e, "older.example.test", now.Add(-90*day), now.Add(-40*day))
	storeCert(t, e, "future.example.test", now.Add(day), now.Add(10*day))
	// Valid leaf certificates on the timeline, by hours from now.
	hours := []int{3 * 24, 3*24 + 1, 10 * 24, 20 * 24, 45 * 24, 85 * 24, 100 * 24}
	var soon int64
	for i, h := range hours {
		id := storeCert(t, e, "t"+itoa(int64(i))+".example.test", now.Add(-day), now.Add(time.Duration(h)*time.Hour))
		if h == 20*24 {
			soon = id
		}
	}
	testDashboardProcesses(t, e, c, soon)
	// A certificate certkeeper issued for itself, expiring within 30
	// days, is counted nowhere and listed on its own filter.
	own, err := e.auth.Issue(ctx, ca.Request{Profile: ca.TLSServer, DNSNames: []string{"own.example.test"},
		Validity: 20 * day, Requester: ca.System()})
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	if l, err := e.user.ListCertificates(ctx, client.CertificateQuery{Internal: &yes}); err != nil ||
		len(l.Items) != 1 || l.Items[0].ID != own.Record.ID || !l.Items[0].Internal {
		t.Errorf("internal certificates = %+v, %v; want only %d", l, err, own.Record.ID)
	}
	if l, err := e.user.ListCertificates(ctx, client.CertificateQuery{Internal: &no, ExpiringWithin: "30"}); err != nil ||
		len(l.Items) != 5 { // four on the timeline and future.example.test
		t.Errorf("others expiring within 30 days = %d items, %v; want 5", len(l.Items), err)
	}

	d, err := e.user.Dashboard(ctx)
	if err != nil {
		t.Fatalf("Dashboard = %v", err)
	}
	want := client.DashboardCounts{Valid: 2 + 1 + len(hours), Expired: 2, NotYetValid: 1, Revoked: 1, Expiring30: 4}
	if d.Counts != want {
		t.Errorf("counts = %+v, want %+v", d.Counts, want)
	}
	if d.Definitions != 2 || d.OpenAcquisitions != 1 || d.Attention != 1 {
		t.Errorf("definitions %d, open acquisitions %d, attention %d; want 2, 1, 1",
			d.Definitions, d.OpenAcquisitions, d.Attention)
	}
	checkTimeline(t, d, now, hours)
}

// testDashboardProcesses makes a definition of certificate soon (needing
// attention) and one with an open acquisition.
func testDashboardProcesses(t *testing.T, e *env, c *client.CA, soon int64) {
	t.Helper()
	if _, err := e.user.ImportDefinition(ctx, client.DefinitionImport{CertificateID: soon, Name: "soon"}); err != nil {
		t.Fatalf("ImportDefinition = %v", err)
	}
	if err := e.catalogue.SyncBuiltin(ctx); err != nil {
		t.Fatal(err)
	}
	def := newDefinition("app")
	def.Requirements.Issuer = c.Name
	d, err := e.user.CreateDefinition(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.user.StartAcquisition(ctx, client.AcquisitionStart{DefinitionID: d.ID}); err != nil {
		t.Fatal(err)
	}
}

// checkTimeline wants 90 consecutive days from d.At's, each counting the
// certificates expiring hours after now on that day.
func checkTimeline(t *testing.T, d *client.Dashboard, now time.Time, hours []int) {
	t.Helper()
	if len(d.Timeline) != 90 {
		t.Fatalf("timeline has %d days, want 90", len(d.Timeline))
	}
	first := d.At.UTC().Truncate(day)
	want := make([]int, 90)
	for _, h := range hours {
		na := now.Add(time.Duration(h) * time.Hour).UTC().Truncate(time.Second)
		if i := int(na.Sub(first) / day); i < 90 {
			want[i]++
		}
	}
	for i, td := range d.Timeline {
		if date := first.AddDate(0, 0, i).Format(time.DateOnly); td.Date != date || td.Count != want[i] {
			t.Errorf("timeline[%d] = %+v, want %s with %d", i, td, date, want[i])
		}
	}
}

const day = 24 * time.Hour
