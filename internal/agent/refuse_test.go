package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// revokeAgentCert revokes agent a's current certificate in the inventory,
// as the revocation service does.
func revokeAgentCert(t *testing.T, f *fixture, a *inventory.Agent) {
	t.Helper()
	rec, err := f.st.CertificateBySHA256(t.Context(), a.CertificateSHA256)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.st.DefaultCA(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r := &inventory.Revocation{CAID: c.ID, CertificateID: rec.ID, Serial: rec.Serial, RevokedAt: f.clock.Now(), Reason: 1}
	if err := f.st.Revoke(t.Context(), r, &inventory.AuditEvent{Time: f.clock.Now(), Actor: "user:admin",
		Action: "certificate.revoke", Object: "certificate serial " + rec.Serial}); err != nil {
		t.Fatal(err)
	}
}

// refusal returns the refusal reason of a round's error, "" when none.
func refusal(err error) string {
	var he *HTTPError
	if errors.As(err, &he) && he.Status == http.StatusForbidden {
		return he.Refusal
	}
	return ""
}

// TestRevokedAgentCertificateRefused: once the agent's certificate is
// revoked, its next requests for jobs and for a renewal are refused with
// reason "revoked" and a request to enroll again; the refusal is audited
// once however often the agent comes back, and no job is handed out.
func TestRevokedAgentCertificateRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	dir, a := f.enroll(t, "web1")
	f.jobs.set(a.ID, testJob(t, 7, "true"))
	revokeAgentCert(t, f, a)
	for range 3 {
		err := f.runOnce(dir)
		if refusal(err) != RefusedRevoked || !strings.Contains(err.Error(), "revoked") ||
			!strings.Contains(err.Error(), "certkeeper agent enroll") {
			t.Fatalf("round with a revoked certificate: %v, want 403 revoked and how to enroll again", err)
		}
	}
	if o := f.jobs.outcome(7); o != nil {
		t.Errorf("a job ran with a revoked certificate: %+v", o)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	life := pair.Leaf.NotAfter.Sub(pair.Leaf.NotBefore)
	at := pair.Leaf.NotBefore.Add(life * 3 / 4)
	err = Run(context.Background(), RunConfig{Dir: dir, Once: true, Now: func() time.Time { return at }}, f.logger())
	if refusal(err) != RefusedRevoked || !strings.Contains(err.Error(), "renew") {
		t.Errorf("renewal with a revoked certificate: %v, want 403 revoked", err)
	}
	if got := f.agent(t, "web1"); got.CertificateSHA256 != a.CertificateSHA256 {
		t.Errorf("the revoked agent renewed its certificate: %+v", got)
	}
	if n := len(f.log.Lines("agent refused")); n != 1 {
		t.Errorf("%d refusal log lines, want 1 (no flood):\n%s", n, f.log)
	}
	checkAudit(t, f, "", "agent.token_create", "agent.enroll", "agent.refused")
}

// TestSupersededCertificateRefused: after a new enrollment the old
// certificate is refused as not current.
func TestSupersededCertificateRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	oldDir, _ := f.enroll(t, "web1")
	f.enroll(t, "web1")
	err := f.runOnce(oldDir)
	if refusal(err) != RefusedNotCurrent || !strings.Contains(err.Error(), "no longer") {
		t.Errorf("old certificate: %v, want 403 not_current", err)
	}
}

// TestAuthenticateReasons checks each refusal against a client chain
// made here.
func TestAuthenticateReasons(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	dir, a := f.enroll(t, "web1")
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	chain := []*x509.Certificate{pair.Leaf, f.root}
	other, err := f.auth.Issue(t.Context(), caRequestClient("stranger"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		chain []*x509.Certificate
		prep  func()
		want  string
	}{
		{"current", chain, func() {}, ""},
		{"unknown", []*x509.Certificate{other.Certificate, f.root}, func() {}, RefusedUnknown},
		{"expired", chain, func() { f.clock.Advance(400 * 24 * time.Hour) }, RefusedExpired},
		{"disabled", chain, func() {
			f.clock.Advance(-400 * 24 * time.Hour)
			if _, err := f.reg.SetDisabled(t.Context(), "user:admin", a.ID, true); err != nil {
				t.Fatal(err)
			}
		}, RefusedDisabled},
	}
	for _, tt := range tests {
		tt.prep()
		_, err := f.reg.Authenticate(t.Context(), tt.chain)
		var re *RefusedError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v, want accepted", tt.name, err)
		case tt.want != "" && (!errors.As(err, &re) || re.Reason != tt.want):
			t.Errorf("%s: %v, want refused %s", tt.name, err, tt.want)
		}
	}
}

// TestRefusalLogQuiet: a refusal is new once per certificate and reason,
// and logged again only after the quiet period with the count.
func TestRefusalLogQuiet(t *testing.T) {
	var l refusalLog
	now := time.Now()
	e := &RefusedError{Reason: RefusedRevoked, SHA256: "aa"}
	if first, n := l.note(e, now); !first || n != 1 {
		t.Fatalf("first refusal: %v %d, want new and logged", first, n)
	}
	for range 5 {
		if first, n := l.note(e, now.Add(time.Minute)); first || n != 0 {
			t.Fatalf("repeat within the hour: %v %d, want quiet", first, n)
		}
	}
	if first, n := l.note(e, now.Add(2*time.Hour)); first || n != 6 {
		t.Errorf("after the quiet period: %v %d, want logged with 6", first, n)
	}
	if first, _ := l.note(&RefusedError{Reason: RefusedNotCurrent, SHA256: "aa"}, now); !first {
		t.Error("another reason for the same certificate is not new")
	}
}
