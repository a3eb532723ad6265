package api_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

var policySuite = []struct {
	name string
	test func(t *testing.T, e *env)
}{
	{"policy administration", testPolicyAdministration},
	{"role policy refusals", testRolePolicyRefusals},
	{"approval", testApproval},
}

func runPolicySuite(t *testing.T, open opener) {
	for _, s := range policySuite {
		t.Run(s.name, func(t *testing.T) { s.test(t, newEnv(t, open)) })
	}
}

func TestPolicySQLite(t *testing.T) { runPolicySuite(t, openSQLite) }

func TestPolicyPostgres(t *testing.T) {
	if os.Getenv("CERTKEEPER_TEST_POSTGRES") == "" {
		testenv.Missing(t, "CERTKEEPER_TEST_POSTGRES is not set")
	}
	runPolicySuite(t, openPostgres)
}

// allowUsers lets users request domain and the names below it from CA
// caID (a fresh CA lets users request nothing).
func allowUsers(t *testing.T, e *env, caID int64, domain string) {
	t.Helper()
	p := client.IssuancePolicy{Admin: client.RolePolicy{Unrestricted: true},
		User: client.RolePolicy{Domains: []client.DomainRule{{Domain: domain, Subdomains: true}}}}
	if _, err := e.admin.SetCAPolicy(ctx, caID, p); err != nil {
		t.Fatalf("SetCAPolicy: %v", err)
	}
}

func testPolicyAdministration(t *testing.T, e *env) {
	c := defaultCA(t, e)
	got, err := e.user.GetCAPolicy(ctx, c.ID)
	if err != nil || !got.Default || !got.Policy.Admin.Unrestricted || got.Policy.User.Unrestricted || len(got.Policy.User.Domains) != 0 {
		t.Fatalf("GetCAPolicy of a fresh CA = %+v, %v; want the default (admins anything, users nothing)", got, err)
	}
	want := client.IssuancePolicy{Admin: client.RolePolicy{Unrestricted: true}, OnViolation: "approval",
		User: client.RolePolicy{Domains: []client.DomainRule{{Domain: "Example.TEST", Wildcard: true}}, IPRanges: []string{"10.1.2.3/8"},
			MaxNames: 10, Profiles: []string{"tls-server"}, MaxDays: 397}}
	if _, err := e.user.SetCAPolicy(ctx, c.ID, want); !client.IsForbidden(err) {
		t.Errorf("SetCAPolicy as user = %v, want 403", err)
	}
	set, err := e.admin.SetCAPolicy(ctx, c.ID, want)
	if err != nil {
		t.Fatalf("SetCAPolicy = %v", err)
	}
	u := set.Policy.User
	if set.Default || u.Domains[0].Domain != "example.test" || u.IPRanges[0] != "10.0.0.0/8" || u.MaxNames != 10 || set.Policy.OnViolation != "approval" {
		t.Errorf("SetCAPolicy = %+v; want the policy normalised", set)
	}
	for _, tc := range []struct {
		field string
		p     client.IssuancePolicy
	}{
		{"on_violation", client.IssuancePolicy{OnViolation: "ask"}},
		{"user.domains[0].domain", client.IssuancePolicy{User: client.RolePolicy{Domains: []client.DomainRule{{Domain: "*.x.test"}}}}},
		{"user.ip_ranges[0]", client.IssuancePolicy{User: client.RolePolicy{IPRanges: []string{"10.0.0.0"}}}},
		{"admin.max_names", client.IssuancePolicy{Admin: client.RolePolicy{MaxNames: -1}}},
		{"user.max_days", client.IssuancePolicy{User: client.RolePolicy{MaxDays: 99999}}},
		{"user.profiles[0]", client.IssuancePolicy{User: client.RolePolicy{Profiles: []string{"code-signing"}}}},
	} {
		_, err := e.admin.SetCAPolicy(ctx, c.ID, tc.p)
		if p := wantProblem(t, err, http.StatusUnprocessableEntity); len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
			t.Errorf("invalid policy: problem = %+v; want field %s", p, tc.field)
		}
	}
	if again, err := e.user.GetCAPolicy(ctx, c.ID); err != nil || again.Policy.User.MaxDays != 397 {
		t.Errorf("policy after refused changes = %+v, %v; want the one set", again, err)
	}
	audit, err := e.admin.ListAudit(ctx, client.AuditQuery{})
	if err != nil || !hasAudit(audit, "ca.policy", "user:ada") {
		t.Errorf("audit = %+v, %v; want ca.policy by user:ada", audit, err)
	}
}

// testRolePolicyRefusals restricts the admin role and asks for a
// certificate outside each rule: each is a 422 naming the field and the
// rule, and nothing is stored.
func testRolePolicyRefusals(t *testing.T, e *env) {
	c := defaultCA(t, e)
	p := client.IssuancePolicy{User: client.RolePolicy{}, Admin: client.RolePolicy{
		Domains:  []client.DomainRule{{Domain: "example.test", Subdomains: true}, {Domain: "wild.test", Wildcard: true}},
		IPRanges: []string{"10.0.0.0/8"}, MaxNames: 3, Profiles: []string{"tls-server"}, MaxDays: 90}}
	if _, err := e.admin.SetCAPolicy(ctx, c.ID, p); err != nil {
		t.Fatal(err)
	}
	before, err := e.st.CountCertificates(ctx, inventory.CertificateFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, field, rule string
		in                client.CAIssue
	}{
		{"other domain", "dns_names", ca.RuleDNSDomain, client.CAIssue{DNSNames: []string{"localhost"}}},
		{"wildcard not allowed", "dns_names", ca.RuleWildcard, client.CAIssue{DNSNames: []string{"*.example.test"}}},
		{"IP outside the ranges", "ip_addresses", ca.RuleIPRange, client.CAIssue{IPAddresses: []string{"192.0.2.7"}}},
		{"too many names", "dns_names", ca.RuleMaxNames,
			client.CAIssue{DNSNames: []string{"a.example.test", "b.example.test", "c.example.test", "d.example.test"}}},
		{"profile", "profile", ca.RuleProfile, client.CAIssue{DNSNames: []string{"a.example.test"}, Profile: "tls-client"}},
		{"validity", "validity_days", ca.RuleMaxDays, client.CAIssue{DNSNames: []string{"a.example.test"}, ValidityDays: 91}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.admin.IssueFromCA(ctx, c.ID, tc.in)
			p := wantProblem(t, err, http.StatusUnprocessableEntity)
			if len(p.Errors) != 1 || p.Errors[0].Field != tc.field || p.Errors[0].Rule != tc.rule {
				t.Errorf("problem = %+v; want field %s, rule %s", p, tc.field, tc.rule)
			}
		})
	}
	if after, err := e.st.CountCertificates(ctx, inventory.CertificateFilter{}); err != nil || after != before {
		t.Errorf("certificates after refusals = %d, %v; want %d (nothing signed)", after, err, before)
	}
	got, err := e.admin.IssueFromCA(ctx, c.ID, client.CAIssue{DNSNames: []string{"a.example.test", "*.wild.test"},
		IPAddresses: []string{"10.9.8.7"}})
	if err != nil {
		t.Fatalf("IssueFromCA inside the policy = %v", err)
	}
	if days := got.NotAfter.Sub(got.NotBefore).Hours() / 24; days > 90 {
		t.Errorf("validity of a request asking for none = %.1f days; want it cut at the role's 90", days)
	}
}

// testApproval: with on_violation approval, a user's acquisition outside
// the policy waits in pending_approval; the user cannot approve it, an
// admin can; another is rejected with a reason.
func testApproval(t *testing.T, e *env) {
	c, _, err := e.auth.EnsureDefault(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.catalogue.SyncBuiltin(ctx); err != nil {
		t.Fatal(err)
	}
	pol := client.IssuancePolicy{Admin: client.RolePolicy{Unrestricted: true}, OnViolation: "approval",
		User: client.RolePolicy{Domains: []client.DomainRule{{Domain: "allowed.test"}}}}
	if _, err := e.admin.SetCAPolicy(ctx, c.ID, pol); err != nil {
		t.Fatal(err)
	}
	pending := pendingProcess(t, e, "app")
	if _, err := e.user.Approve(ctx, pending.ID); !client.IsForbidden(err) {
		t.Errorf("Approve as the user = %v, want 403", err)
	}
	list, err := e.admin.ListAcquisitions(ctx, client.AcquisitionQuery{State: "pending_approval"})
	if err != nil || len(list.Items) != 1 || list.Items[0].ID != pending.ID {
		t.Fatalf("pending list = %+v, %v; want process %d", list, err, pending.ID)
	}
	if d, err := e.admin.Dashboard(ctx); err != nil || d.PendingApproval != 1 || d.OpenAcquisitions < 1 {
		t.Errorf("dashboard = %+v, %v; want 1 waiting for approval, counted as open too", d, err)
	}
	v, err := e.admin.Approve(ctx, pending.ID)
	if err != nil || v.Certificate == nil || v.Acquisition.State != "issued" {
		t.Fatalf("Approve = %+v, %v; want an issued certificate", v, err)
	}
	got, err := e.user.GetAcquisition(ctx, pending.ID)
	if err != nil || !hasStep(got.Steps, "approved", "user:ada") || !hasStep(got.Steps, "approval_requested", "user:bob") {
		t.Errorf("steps = %+v, %v; want approval_requested by bob and approved by ada", got, err)
	}
	if _, err := e.admin.Approve(ctx, pending.ID); !client.IsConflict(err) {
		t.Errorf("second Approve = %v, want 409", err)
	}
	other := pendingProcess(t, e, "shop")
	if _, err := e.admin.Reject(ctx, other.ID, ""); wantProblem(t, err, http.StatusUnprocessableEntity).Errors[0].Field != "reason" {
		t.Errorf("Reject without a reason = %v, want 422 reason", err)
	}
	r, err := e.admin.Reject(ctx, other.ID, "not our domain")
	if err != nil || r.State != "cancelled" || !hasStep(r.Steps, "rejected", "user:ada") {
		t.Fatalf("Reject = %+v, %v; want cancelled with a rejected step", r, err)
	}
	audit, err := e.admin.ListAudit(ctx, client.AuditQuery{})
	if err != nil || !hasAudit(audit, "acquisition.approve", "user:ada") || !hasAudit(audit, "acquisition.reject", "user:ada") ||
		!hasAudit(audit, "acquisition.approval_requested", "user:bob") {
		t.Errorf("audit = %+v, %v; want approval_requested, approve and reject", audit, err)
	}
	for _, ev := range audit.Items {
		if ev.Action == "ca.issue" && ev.Actor == "user:ada" && !strings.Contains(ev.Summary, "requested by user:bob, approved by user:ada") {
			t.Errorf("ca.issue summary = %q; want both names", ev.Summary)
		}
	}
}

// pendingProcess starts a user's acquisition for NAME.example.com and
// issues it, which the policy holds for approval.
func pendingProcess(t *testing.T, e *env, name string) *client.Acquisition {
	t.Helper()
	d, err := e.user.CreateDefinition(ctx, newDefinition(name))
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.user.StartAcquisition(ctx, client.AcquisitionStart{DefinitionID: d.ID})
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.user.Issue(ctx, q.ID)
	if err != nil || v.Certificate != nil || v.Acquisition.State != "pending_approval" {
		t.Fatalf("Issue outside the policy = %+v, %v; want pending_approval without a certificate", v, err)
	}
	return &v.Acquisition
}

func hasStep(steps []client.Step, action, actor string) bool {
	for _, s := range steps {
		if s.Action == action && s.Actor == actor {
			return true
		}
	}
	return false
}
