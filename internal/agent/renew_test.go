package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestAgentRenewsItsCertificate: a round renews the agent's certificate
// (same key) once a third of its life is left; the old certificate stops
// working, the new one works, the renewal is logged and audited; an
// expired certificate asks for a new enrollment.
func TestAgentRenewsItsCertificate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	dir, a := f.enroll(t, "web1")
	before, err := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil {
		t.Fatal(err)
	}
	oldPair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	runAt := func(at time.Time) error {
		return Run(context.Background(), RunConfig{Dir: dir, Once: true, Now: func() time.Time { return at }}, f.logger())
	}
	if err := runAt(f.clock.Now()); err != nil {
		t.Fatalf("round while the certificate is young: %v", err)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, CertFile)); string(now) != string(before) {
		t.Fatal("a young certificate was renewed")
	}
	life := oldPair.Leaf.NotAfter.Sub(oldPair.Leaf.NotBefore)
	if err := runAt(oldPair.Leaf.NotBefore.Add(life * 3 / 4)); err != nil {
		t.Fatalf("round three quarters into the certificate's life: %v", err)
	}
	newPair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if newPair.Leaf.Equal(oldPair.Leaf) || !samePublicKey(newPair.Leaf.PublicKey, oldPair.Leaf.PublicKey) {
		t.Fatalf("after the renewal: certificate %s, want a new one for the same key", newPair.Leaf.Subject)
	}
	if got := f.agent(t, "web1"); got.ID != a.ID || got.CertificateSHA256 != inventory.SHA256Hex(newPair.Leaf.Raw) {
		t.Errorf("stored agent %+v, want the new certificate recorded", got)
	}
	roots := x509.NewCertPool()
	roots.AddCert(f.root)
	if code, body := jobsGet(t, f.url, roots, &oldPair); code != http.StatusForbidden {
		t.Errorf("old certificate after the renewal: %d %s, want 403", code, body)
	}
	if code, body := jobsGet(t, f.url, roots, &newPair); code != http.StatusOK {
		t.Errorf("new certificate: %d %s, want 200", code, body)
	}
	if len(f.log.Lines("agent certificate renewed")) < 2 {
		t.Errorf("log %s: want the renewal logged by both sides", f.log)
	}
	checkAudit(t, f, "", "agent.token_create", "agent.enroll", "agent.renew", "agent.refused")
	err = runAt(newPair.Leaf.NotAfter.Add(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "enroll again") {
		t.Errorf("round after expiry: %v, want a request to enroll again", err)
	}
}
