package ca

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var (
	alice = Requester{Name: "user:alice", Role: inventory.RoleUser}
	root  = Admin("user:root")
)

// userPolicy is the user role policy the rule tests run against.
var userPolicy = inventory.RolePolicy{
	Domains: []inventory.DomainRule{
		{Domain: "exact.test"},
		{Domain: "sub.test", Subdomains: true},
		{Domain: "wild.test", Wildcard: true},
		{Domain: "deep.test", Subdomains: true, Wildcard: true},
	},
	IPRanges: []string{"10.0.0.0/8", "2001:db8::/32"},
	MaxNames: 3,
	Profiles: []string{string(TLSServer), string(TLSClient)},
	MaxDays:  90,
}

// TestIssuanceRules: each rule admits what it allows and refuses the
// rest, naming itself and the field; a refusal stores nothing.
func TestIssuanceRules(t *testing.T) {
	a, st, c := newAuthority(t, Config{})
	ctx := context.Background()
	if _, err := a.SetIssuancePolicy(ctx, c.Name, inventory.IssuancePolicy{Admin: inventory.RolePolicy{Unrestricted: true},
		User: userPolicy}, "test"); err != nil {
		t.Fatal(err)
	}
	dns := func(names ...string) Request { return Request{Profile: TLSServer, DNSNames: names, Requester: alice} }
	ips := func(ips ...string) Request {
		r := Request{Profile: TLSClient, Requester: alice} // private IPs are not for the Baseline Requirements lints of tls-server
		for _, s := range ips {
			r.IPAddresses = append(r.IPAddresses, net.ParseIP(s))
		}
		return r
	}
	with := func(r Request, f func(*Request)) Request { f(&r); return r }
	for _, tc := range []struct {
		name        string
		r           Request
		rule, field string // "" admits
	}{
		{"exact domain", dns("exact.test"), "", ""},
		{"below an exact domain", dns("a.exact.test"), RuleDNSDomain, "dns_names"},
		{"wildcard of an exact domain", dns("*.exact.test"), RuleWildcard, "dns_names"},
		{"subdomain allowed", dns("a.b.sub.test"), "", ""},
		{"wildcard without leave", dns("*.sub.test"), RuleWildcard, "dns_names"},
		{"wildcard allowed", dns("*.wild.test"), "", ""},
		{"wildcard one level only", dns("*.a.wild.test"), RuleDNSDomain, "dns_names"},
		{"deep wildcard", dns("*.a.deep.test"), "", ""},
		{"lookalike domain", dns("notexact.test"), RuleDNSDomain, "dns_names"},
		{"localhost", dns("localhost"), RuleDNSDomain, "dns_names"},
		{"IP in range", ips("10.1.2.3"), "", ""},
		{"IP out of range", ips("192.168.1.1"), RuleIPRange, "ip_addresses"},
		{"names at the cap", dns("exact.test", "a.sub.test", "b.sub.test"), "", ""},
		{"names over the cap", dns("exact.test", "a.sub.test", "b.sub.test", "c.sub.test"), RuleMaxNames, "dns_names"},
		{"profile allowed", with(dns("exact.test"), func(r *Request) { r.Profile = TLSClient }), "", ""},
		{"profile refused", with(dns("exact.test"), func(r *Request) { r.Profile = TLSServerClient }), RuleProfile, "profile"},
		{"sub-CA refused", Request{Profile: SubCA, CA: "default-root", CommonName: "x", Requester: alice}, RuleProfile, "profile"},
		{"validity at the cap", with(dns("exact.test"), func(r *Request) { r.Validity = 90 * day }), "", ""},
		{"validity over the cap", with(dns("exact.test"), func(r *Request) { r.Validity = 91 * day }), RuleMaxDays, "validity_days"},
		{"common name not a name", with(dns("exact.test"), func(r *Request) { r.CommonName = "ceo" }), RuleDNSDomain, "common_name"},
		{"no requester", Request{Profile: TLSServer, DNSNames: []string{"exact.test"}}, RuleRequester, "requester"},
		{"unknown role", with(dns("exact.test"), func(r *Request) { r.Requester.Role = "root" }), RuleRequester, "requester"},
		{"admin unrestricted", with(dns("localhost", "*.anything.test"), func(r *Request) { r.Requester = root }), "", ""},
		{"system exempt", with(dns("localhost"), func(r *Request) { r.Requester = System() }), "", ""},
		{"approved by an admin", with(dns("localhost"), func(r *Request) { r.Requester, r.OnBehalfOf = root, alice.Name }), "", ""},
		{"approval claimed by a user", with(dns("localhost"), func(r *Request) { r.OnBehalfOf = "user:bob" }), RuleDNSDomain, "dns_names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := countCerts(t, st)
			_, err := a.Issue(ctx, tc.r)
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("Issue = %v; want it admitted", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.Rule != tc.rule || pe.Field != tc.field || pe.Approvable {
				t.Fatalf("Issue = %v (%+v); want a refusal by rule %s on field %s", err, pe, tc.rule, tc.field)
			}
			var fe *inventory.FieldError
			if !errors.Is(err, inventory.ErrInvalid) || !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("refusal %v does not read as a field error on %s", err, tc.field)
			}
			if after := countCerts(t, st); after != before {
				t.Errorf("certificates %d -> %d; a refusal must store nothing", before, after)
			}
		})
	}
}

// TestDefaultIssuancePolicy: a fresh CA lets admins issue anything and
// users nothing, and a request that asks for no validity is cut at the
// role's maximum.
func TestDefaultIssuancePolicy(t *testing.T) {
	a, _, c := newAuthority(t, Config{})
	ctx := context.Background()
	if _, err := a.Issue(ctx, Request{Profile: TLSServer, DNSNames: []string{"a.example.test"}, Requester: alice}); err == nil {
		t.Error("a user was issued a certificate under the default policy")
	}
	if _, err := a.Issue(ctx, Request{Profile: TLSServer, DNSNames: []string{"localhost"}, Requester: root}); err != nil {
		t.Errorf("an admin was refused under the default policy: %v", err)
	}
	p := inventory.IssuancePolicy{Admin: inventory.RolePolicy{Unrestricted: true}, OnViolation: inventory.ViolationApproval,
		User: inventory.RolePolicy{Domains: []inventory.DomainRule{{Domain: "example.test", Subdomains: true}}, MaxDays: 30}}
	if _, err := a.SetIssuancePolicy(ctx, c.Name, p, "test"); err != nil {
		t.Fatal(err)
	}
	iss, err := a.Issue(ctx, Request{Profile: TLSServer, DNSNames: []string{"a.example.test"}, Requester: alice})
	if err != nil {
		t.Fatal(err)
	}
	if life := iss.Certificate.NotAfter.Sub(iss.Certificate.NotBefore); life > 30*day {
		t.Errorf("validity = %v; want at most the role's 30 days", life)
	}
	_, err = a.Issue(ctx, Request{Profile: TLSServer, DNSNames: []string{"localhost"}, Requester: alice})
	var pe *PolicyError
	if !errors.As(err, &pe) || !pe.Approvable {
		t.Errorf("Issue outside the policy with approval = %v; want an approvable PolicyError", err)
	}
}

// TestTenThousandNames: the max-names rule refuses before anything is
// signed, even for a CSR carrying 10,000 names.
func TestTenThousandNames(t *testing.T) {
	a, st, c := newAuthority(t, Config{})
	ctx := context.Background()
	p := inventory.IssuancePolicy{Admin: inventory.RolePolicy{Unrestricted: true},
		User: inventory.RolePolicy{Domains: []inventory.DomainRule{{Domain: "example.test", Subdomains: true, Wildcard: true}}}}
	if _, err := a.SetIssuancePolicy(ctx, c.Name, p, "test"); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 10000)
	for i := range names {
		names[i] = fmt.Sprintf("n%d.example.test", i)
	}
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: names[0]}, DNSNames: names}, k)
	if err != nil {
		t.Fatal(err)
	}
	csr, _ := x509.ParseCertificateRequest(der)
	before := countCerts(t, st)
	start := time.Now()
	_, err = a.Issue(ctx, Request{Profile: TLSServer, CSR: csr, Requester: alice})
	var pe *PolicyError
	if !errors.As(err, &pe) || pe.Rule != RuleMaxNames {
		t.Fatalf("Issue with 10,000 names = %v; want the max_names rule (default %d)", err, inventory.DefaultMaxNames)
	}
	if after := countCerts(t, st); after != before {
		t.Errorf("certificates %d -> %d; want nothing signed", before, after)
	}
	t.Logf("refused in %v", time.Since(start))
	// The refusal is audited, with a bounded summary naming the rule.
	events, _, err := st.ListAudit(ctx, time.Time{}, inventory.Page{Limit: inventory.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	var refused *inventory.AuditEvent
	for i := range events {
		if events[i].Action == "ca.refuse" {
			refused = &events[i]
		}
	}
	if refused == nil || refused.Actor != alice.Name || refused.Object != fmt.Sprintf("ca:%d", c.ID) ||
		!strings.Contains(refused.Summary, "max_names") || len(refused.Summary) > maxRefusalSummary+len("…") {
		t.Errorf("refusal audit event = %+v; want ca.refuse by %s on ca:%d naming max_names, bounded", refused, alice.Name, c.ID)
	}
}

// TestValidateIssuancePolicy: bad policies are field errors naming the
// JSON path; good ones come back normalised.
func TestValidateIssuancePolicy(t *testing.T) {
	for _, tc := range []struct {
		p     inventory.IssuancePolicy
		field string
	}{
		{inventory.IssuancePolicy{OnViolation: "maybe"}, "on_violation"},
		{inventory.IssuancePolicy{User: inventory.RolePolicy{Domains: []inventory.DomainRule{{Domain: ""}}}}, "user.domains[0].domain"},
		{inventory.IssuancePolicy{Admin: inventory.RolePolicy{Domains: []inventory.DomainRule{{Domain: "*.x.test"}}}}, "admin.domains[0].domain"},
		{inventory.IssuancePolicy{User: inventory.RolePolicy{IPRanges: []string{"10.0.0.1"}}}, "user.ip_ranges[0]"},
		{inventory.IssuancePolicy{User: inventory.RolePolicy{MaxNames: 1001}}, "user.max_names"},
		{inventory.IssuancePolicy{User: inventory.RolePolicy{MaxDays: -1}}, "user.max_days"},
		{inventory.IssuancePolicy{User: inventory.RolePolicy{Profiles: []string{"email"}}}, "user.profiles[0]"},
	} {
		_, err := ValidateIssuancePolicy(tc.p)
		var fe *inventory.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("ValidateIssuancePolicy(%+v) = %v; want a field error on %s", tc.p, err, tc.field)
		}
	}
	got, err := ValidateIssuancePolicy(inventory.IssuancePolicy{User: inventory.RolePolicy{
		Domains: []inventory.DomainRule{{Domain: ".Example.TEST."}}, IPRanges: []string{"10.1.2.3/8"}}})
	if err != nil || got.User.Domains[0].Domain != "example.test" || got.User.IPRanges[0] != "10.0.0.0/8" || got.OnViolation != inventory.ViolationRefuse {
		t.Errorf("ValidateIssuancePolicy = %+v, %v; want normalised", got, err)
	}
}

func countCerts(t *testing.T, st inventory.Store) int {
	t.Helper()
	n, err := st.CountCertificates(context.Background(), inventory.CertificateFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
