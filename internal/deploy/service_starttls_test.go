package deploy_test

import (
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestInstallPostfixSTARTTLS installs into the directory of a real
// Postfix, whose smtpd offers TLS only after STARTTLS: the check after
// the install and the check from the manager upgrade the SMTP dialogue
// and see the new certificate. The same check without STARTTLS fails.
func TestInstallPostfixSTARTTLS(t *testing.T) {
	pf := testenv.StartPostfix(t)
	bin, err := exec.LookPath("postfix")
	if err != nil {
		t.Fatal(err)
	}
	f := newSvcFixture(t, deploy.ServiceOptions{})
	ctx := t.Context()
	f.putLayout(t, "postfix", `[{"path":"cert.pem","content":"fullchain"},{"path":"key.pem","content":"key"}]`)
	_, port, err := net.SplitHostPort(pf.Addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	tg := f.target(t, deploy.TargetInput{Name: "mx", Preset: "postfix", Method: inventory.MethodDirectory,
		Directory: pf.Dir, TestCommand: ptr(""), ReloadCommand: ptr(bin + " -c " + filepath.Join(pf.Dir, "conf") + " reload"),
		Check: inventory.CheckSpec{Host: "127.0.0.1", Port: p, SNI: "localhost", StartTLS: " SMTP"}})
	if tg.Check.StartTLS != "smtp" {
		t.Errorf("stored STARTTLS %q, want smtp", tg.Check.StartTLS)
	}
	a := f.issue(t)
	d := f.start(t, a.Record.ID, tg.ID)
	done, err := f.svc.Install(ctx, svcActor, d.ID)
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	if done.State != inventory.DeployConfirmed || done.LastCheck == nil || !done.LastCheck.Passed ||
		done.LastCheck.ServedSHA256 != a.Record.SHA256 {
		t.Fatalf("after install: state %s, check %+v; want confirmed, serving %s after STARTTLS",
			done.State, done.LastCheck, a.Record.SHA256)
	}
	checked, err := f.svc.Check(ctx, svcActor, d.ID)
	if err != nil || !checked.LastCheck.Passed {
		t.Errorf("Check = %+v, %v; want passed", checked.LastCheck, err)
	}
	in := targetInputOf(tg)
	in.Check.StartTLS = ""
	plain, err := f.svc.UpdateTarget(ctx, svcActor, tg.ID, tg.Version, in)
	if err != nil {
		t.Fatalf("UpdateTarget without STARTTLS: %v", err)
	}
	if got, err := f.svc.Check(ctx, svcActor, d.ID); err != nil || got.LastCheck.Passed || got.LastCheck.Error == "" {
		t.Errorf("Check without STARTTLS = %+v, %v; want a failed handshake", got.LastCheck, err)
	}
	testBadStartTLS(t, f, plain)
}

// testBadStartTLS: an unknown protocol, or one without a check host, is
// refused with a one-line field error and changes nothing.
func testBadStartTLS(t *testing.T, f *svcFixture, tg *deploy.TargetView) {
	ctx := t.Context()
	bad := targetInputOf(tg)
	bad.Check.StartTLS = "gopher"
	_, err := f.svc.UpdateTarget(ctx, svcActor, tg.ID, tg.Version, bad)
	wantField(t, err, "check.starttls")
	noHost := targetInputOf(tg)
	noHost.Name, noHost.Check = "mx2", inventory.CheckSpec{StartTLS: "smtp"}
	_, err = f.svc.CreateTarget(ctx, svcActor, noHost)
	wantField(t, err, "check.host")
	got, err := f.svc.GetTarget(ctx, tg.ID)
	if err != nil || got.Version != tg.Version || got.Check != tg.Check {
		t.Errorf("after the refused update: %+v, %v; want version %d, check %+v", got, err, tg.Version, tg.Check)
	}
	if list, _, err := f.svc.ListTargets(ctx, inventory.Page{}); err != nil || len(list) != 1 {
		t.Errorf("targets after the refused create: %d, %v; want 1", len(list), err)
	}
}

// targetInputOf is the input that leaves tg as it is.
func targetInputOf(tg *deploy.TargetView) deploy.TargetInput {
	return deploy.TargetInput{Name: tg.Name, Preset: tg.Preset, Method: tg.Method, Directory: tg.Directory,
		TestCommand: ptr(tg.TestCommand), ReloadCommand: ptr(tg.ReloadCommand), Check: tg.Check}
}
