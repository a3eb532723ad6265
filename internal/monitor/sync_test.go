package monitor_test

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestSyncStartTLS: a confirmed deployment to a target whose check
// upgrades with STARTTLS gets an endpoint that does too, and the
// monitoring pass reads the certificate of a real Postfix after the SMTP
// dialogue; the endpoint follows when the target's protocol changes.
func TestSyncStartTLS(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pf := testenv.StartPostfix(t)
	certID := f.put(t, "mx", pf.Cert)
	host, port, err := net.SplitHostPort(pf.Addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	tg := &inventory.Target{Name: "mx", Preset: "generic", Method: inventory.MethodManual, Directory: "/etc/postfix",
		Check: inventory.CheckSpec{Host: host, Port: p, StartTLS: "smtp"}}
	if err := f.st.PutTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	d := &inventory.Deployment{CertificateID: certID, TargetID: tg.ID, State: inventory.DeployConfirmed, CreatedBy: "test"}
	if err := f.st.PutDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	e := syncOne(t, f)
	if e.StartTLS != "smtp" || e.Address != pf.Addr || e.SourceID != d.ID {
		t.Fatalf("endpoint %+v; want %s with STARTTLS smtp for deployment %d", e, pf.Addr, d.ID)
	}
	r := f.runNow(t, e.ID)[e.ID].Last
	if r == nil || r.Check.Error != "" || len(r.ChainSHA256) == 0 || r.ChainSHA256[0] != inventory.SHA256Hex(pf.Cert.Raw) {
		t.Fatalf("result %+v; want postfix's certificate read after STARTTLS", r)
	}
	tg.Check.StartTLS = ""
	if err := f.st.UpdateTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	if got := syncOne(t, f); got.ID != e.ID || got.StartTLS != "" {
		t.Errorf("after the target's change: endpoint %d STARTTLS %q; want endpoint %d without", got.ID, got.StartTLS, e.ID)
	}
}

// syncOne runs Sync and returns the one endpoint there is.
func syncOne(t *testing.T, f *fixture) inventory.Endpoint {
	t.Helper()
	if err := f.svc.Sync(context.Background()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	all, err := f.st.AllEndpoints(context.Background())
	if err != nil || len(all) != 1 {
		t.Fatalf("endpoints %+v, %v; want one", all, err)
	}
	return all[0]
}
