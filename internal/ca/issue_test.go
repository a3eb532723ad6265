package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

func TestIssueProfiles(t *testing.T) {
	for _, base := range []string{"", "http://pki.example.test"} {
		a, _, _ := newAuthority(t, Config{BaseURL: base})
		ctx := context.Background()
		for _, p := range Profiles() {
			for _, ks := range []KeySpec{ECDSAP256, RSA2048} {
				t.Run(base+"/"+string(p)+"/"+string(ks), func(t *testing.T) {
					r := Request{Requester: Admin("test"), Profile: p, KeySpec: ks, DNSNames: []string{"www.example.test"},
						IPAddresses: []net.IP{net.ParseIP("10.1.2.3")}, Actor: "test"}
					if p == SubCA {
						r.CA, r.CommonName = "default-root", "Team Sub CA"
					}
					iss, err := a.Issue(ctx, r)
					if err != nil {
						t.Fatalf("Issue: %v", err)
					}
					checkIssued(t, iss, p, base)
				})
			}
		}
	}
}

// checkIssued lints and verifies an issued certificate and its record.
func checkIssued(t *testing.T, iss *Issued, p Profile, base string) {
	t.Helper()
	if err := LintCertificate(p, base != "", iss.Certificate.Raw); err != nil {
		t.Errorf("final certificate: %v", err)
	}
	chain := iss.Chain
	_, err := iss.Certificate.Verify(x509.VerifyOptions{Roots: pool(chain[len(chain)-1]),
		Intermediates: pool(chain...), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		t.Errorf("verify: %v", err)
	}
	if iss.Record.ID == 0 || (iss.Key != nil && iss.KeyID == 0) || iss.Record.KeyID != iss.KeyID {
		t.Errorf("Issued record %d key %d (record key %d), want both stored", iss.Record.ID, iss.KeyID, iss.Record.KeyID)
	}
	if n := iss.Certificate.SerialNumber.BitLen(); n < 64 || n > 127 {
		t.Errorf("serial has %d bits, want 64 to 127", n)
	}
	if got := len(iss.Certificate.CRLDistributionPoints) > 0; got != (base != "") {
		t.Errorf("CRL distribution point present = %v with base URL %q", got, base)
	}
}

func TestIssueOnPostgres(t *testing.T) {
	st := openPostgres(t)
	a := New(st, newSealer(t), Config{})
	ctx := context.Background()
	if _, _, err := a.EnsureDefault(ctx); err != nil {
		t.Fatal(err)
	}
	iss, err := a.Issue(ctx, Request{Requester: Admin("test"), Profile: TLSServer, DNSNames: []string{"pg.example.test"}, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	checkIssued(t, iss, TLSServer, "")
}

func TestIssueRefusesAndStoresNothing(t *testing.T) {
	a, st, def := newAuthority(t, Config{})
	ctx := context.Background()
	def.Policy = inventory.NamePolicy{PermittedDNSDomains: []string{"corp.test"}, PermittedIPRanges: []string{"10.0.0.0/8"}}
	if err := st.UpdateCA(ctx, def); err != nil {
		t.Fatal(err)
	}
	a.forget(def.ID)
	good := Request{Requester: Admin("test"), Profile: TLSServer, DNSNames: []string{"a.corp.test"}}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csrDER, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{"c.corp.test"}}, k)
	badCSR, _ := x509.ParseCertificateRequest(csrDER)
	badCSR.Signature[len(badCSR.Signature)-2] ^= 0xff
	tests := []struct {
		name string
		edit func(*Request)
		want string
	}{
		{"unknown profile", func(r *Request) { r.Profile = "code-signing" }, "unknown profile"},
		{"outside policy", func(r *Request) { r.DNSNames = []string{"a.other.test"} }, "may not sign for a.other.test"},
		{"ip outside policy", func(r *Request) { r.IPAddresses = []net.IP{net.ParseIP("192.0.2.1")} }, "may not sign for 192.0.2.1"},
		{"too long", func(r *Request) { r.Validity = 826 * day }, "at most 825 days"},
		{"pathlen", func(r *Request) { r.Profile, r.CommonName = SubCA, "x" }, "path length 0"},
		{"no names", func(r *Request) { r.DNSNames = nil }, "need at least one"},
		{"bad name", func(r *Request) { r.DNSNames = []string{"a..corp.test"} }, "invalid DNS name"},
		{"cn not a name", func(r *Request) { r.CommonName = "b.corp.test" }, "must be one of"},
		{"bad key type", func(r *Request) { r.KeySpec = "dsa-1024" }, "unknown key type"},
		{"bad csr", func(r *Request) { r.CSR, r.DNSNames = badCSR, nil }, "CSR signature does not verify"},
		{"unknown CA", func(r *Request) { r.CA = "nope" }, `no CA named "nope"`},
	}
	before, _ := st.CountCertificates(ctx, inventory.CertificateFilter{})
	for _, tc := range tests {
		r := good
		tc.edit(&r)
		_, err := a.Issue(ctx, r)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "ca: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: Issue error = %v, want one line ca: ... %q", tc.name, err, tc.want)
		}
	}
	a.cfg.Now = func() time.Time { return time.Now().Add(30 * day) }
	_, err := a.Issue(ctx, Request{Requester: Admin("test"), Profile: SubCA, CA: "default-root", CommonName: "x", Validity: 3650 * day})
	if err == nil || !strings.Contains(err.Error(), "outlive the CA") {
		t.Errorf("sub-CA outliving its root: %v", err)
	}
	after, _ := st.CountCertificates(ctx, inventory.CertificateFilter{})
	if after != before {
		t.Errorf("refused requests stored %d certificates", after-before)
	}
}

func TestSubCANameConstraintsAndRetired(t *testing.T) {
	a, st, _ := newAuthority(t, Config{})
	ctx := context.Background()
	root, _ := st.CAByName(ctx, "default-root")
	root.Policy = inventory.NamePolicy{PermittedDNSDomains: []string{"corp.test"}}
	if err := st.UpdateCA(ctx, root); err != nil {
		t.Fatal(err)
	}
	a.forget(root.ID)
	iss, err := a.Issue(ctx, Request{Requester: Admin("test"), CA: root.Name, Profile: SubCA, CommonName: "Team CA"})
	if err != nil {
		t.Fatal(err)
	}
	if got := iss.Certificate.PermittedDNSDomains; len(got) != 1 || got[0] != "corp.test" || !iss.Certificate.PermittedDNSDomainsCritical {
		t.Errorf("sub-CA name constraints = %v, want critical corp.test", got)
	}
	root.Status = inventory.CARetired
	st.UpdateCA(ctx, root)
	a.forget(root.ID)
	if _, err := a.Issue(ctx, Request{Requester: Admin("test"), CA: root.Name, Profile: SubCA, CommonName: "x"}); err == nil || !strings.Contains(err.Error(), "retired") {
		t.Errorf("retired CA issued: %v", err)
	}
}

func TestEnsureDefaultSignerChain(t *testing.T) {
	a, st, def := newAuthority(t, Config{})
	ctx := context.Background()
	again, created, err := a.EnsureDefault(ctx)
	if err != nil || created || again.ID != def.ID || !again.Default {
		t.Fatalf("second EnsureDefault = %+v, %v, %v; want the same default CA", again, created, err)
	}
	signer, cert, err := a.Signer(ctx, def.ID)
	if err != nil || !cert.IsCA || !regexp.MustCompile(`^certkeeper-\d{8}-\d{6}$`).MatchString(cert.Subject.CommonName) {
		t.Fatalf("Signer = %v, %v; want a CA certificate named by organisation and time", cert, err)
	}
	if pub, ok := signer.Public().(*ecdsa.PublicKey); !ok || !pub.Equal(cert.PublicKey) {
		t.Errorf("Signer key does not match its certificate")
	}
	chain, err := a.Chain(ctx, def.ID)
	if err != nil || len(chain) != 2 || chain[0].CheckSignatureFrom(chain[1]) != nil {
		t.Fatalf("Chain = %d certificates, %v; want intermediate and root", len(chain), err)
	}
	if chain[1].PublicKey.(*ecdsa.PublicKey).Curve != elliptic.P384() || chain[1].NotAfter.Sub(chain[1].NotBefore) < 3650*day {
		t.Errorf("root is not a 10-year P-384 certificate")
	}
	events, _, _ := st.ListAudit(ctx, time.Time{}, inventory.Page{})
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	// The root is created, it issues the intermediate, the intermediate CA is created.
	if want := []string{"ca.create", "ca.issue", "ca.create"}; !slices.Equal(actions, want) {
		t.Errorf("audit actions = %v, want %v", actions, want)
	}
	if _, err := a.Init(ctx, InitOptions{Name: "default"}); err == nil {
		t.Error("Init reused a CA name")
	}
}

func TestEnsureDefaultResumesAfterCrash(t *testing.T) {
	st := openSQLite(t)
	a := New(st, newSealer(t), Config{})
	ctx := context.Background()
	o := InitOptions{Name: "default", CommonName: "certkeeper-20261122-101010", Organization: "certkeeper"}
	if _, _, err := a.createRoot(ctx, o); err != nil { // the process died here
		t.Fatal(err)
	}
	c, created, err := a.EnsureDefault(ctx)
	if err != nil || !created || c.Name != "default" || !c.Default {
		t.Fatalf("EnsureDefault after an interrupted first start = %+v, %v, %v", c, created, err)
	}
	_, cert, err := a.Signer(ctx, c.ID)
	if err != nil || cert.Subject.CommonName != "certkeeper-20261122-101010" {
		t.Errorf("resumed intermediate subject = %v, %v; want the root's name without \" Root CA\"", cert.Subject, err)
	}
}

func TestSubjectKeyIDAndSerial(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id, err := subjectKeyID(k.Public())
	if err != nil || len(id) != 20 {
		t.Fatalf("subjectKeyID = %x, %v", id, err)
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "x"}}
	_ = tmpl
	for range 100 {
		n, err := newSerial(rand.Reader)
		if err != nil || n.Sign() <= 0 || n.BitLen() > 127 {
			t.Fatalf("newSerial = %v, %v", n, err)
		}
	}
}

func TestIssueConcurrentUniqueSerials(t *testing.T) {
	a, st, def := newAuthority(t, Config{BatchWindow: time.Millisecond})
	ctx := context.Background()
	const workers, each = 16, 10
	serials := make(chan string, workers*each)
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range each {
				iss, err := a.Issue(ctx, Request{Requester: Admin("test"), Profile: TLSClient, CommonName: "agent", Actor: "t"})
				if err != nil {
					errs <- err
					return
				}
				serials <- iss.Record.Serial
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(serials)
	seen := make(map[string]bool)
	for s := range serials {
		st, err := st.SerialStatus(ctx, def.ID, s)
		if seen[s] || err != nil || !st.Issued {
			t.Fatalf("serial %s: duplicate %v, status %+v, %v", s, seen[s], st, err)
		}
		seen[s] = true
	}
	if len(seen) != workers*each {
		t.Errorf("%d serials, want %d", len(seen), workers*each)
	}
}
