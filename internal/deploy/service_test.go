package deploy_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/deploy/archive"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/sitereport"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/mail"
	"github.com/certkeeper/certkeeper/internal/settings"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
	"github.com/certkeeper/certkeeper/internal/truststore"
)

const svcActor = "test:alice"

// svcFixture is the deployment service over a fresh SQLite store with
// the default built-in CA to issue certificates (with their keys) into
// the inventory.
type svcFixture struct {
	st       inventory.Store
	sealer   *keys.Sealer
	auth     *ca.Authority
	settings *settings.Service
	svc      *deploy.Service
}

func newSvcFixture(t *testing.T, o deploy.ServiceOptions) *svcFixture {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	master := make([]byte, keys.MasterKeySize)
	rand.Read(master)
	sealer, err := keys.NewSealer(nil, master)
	if err != nil {
		t.Fatal(err)
	}
	f := &svcFixture{st: st, sealer: sealer, auth: ca.New(st, sealer, ca.Config{}), settings: settings.New(st, sealer, nil)}
	if _, _, err := f.auth.EnsureDefault(t.Context()); err != nil {
		t.Fatalf("EnsureDefault: %v", err)
	}
	if o.CheckTimeout == 0 {
		o.CheckTimeout = 5 * time.Second
	}
	if o.PackageKDF == (archive.KDF{}) {
		o.PackageKDF = archive.KDF{Time: 1, Memory: 64, Threads: 1} // cheap: the tests seal many packages
	}
	if o.Trust == nil {
		o.Trust = truststore.New(st, truststore.Options{})
	}
	f.svc = deploy.NewService(st, sealer, o)
	return f
}

// issue has the default CA issue a server certificate for localhost and
// 127.0.0.1, stored with its key.
func (f *svcFixture) issue(t *testing.T) *ca.Issued {
	t.Helper()
	in, err := f.auth.Issue(t.Context(), ca.Request{Requester: ca.Admin("test"), Profile: ca.TLSServer, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, Actor: svcActor})
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	if in.KeyID == 0 || len(in.Chain) < 2 {
		t.Fatalf("issued %+v: want a stored key and an intermediate", in.Record)
	}
	return in
}

// issueCSRCert has the default CA sign a request, so that the inventory
// holds the certificate without its key; it returns the certificate ID.
func (f *svcFixture) issueCSRCert(t *testing.T) int64 {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{"client.example.com"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	in, err := f.auth.Issue(t.Context(), ca.Request{Requester: ca.Admin("test"), Profile: ca.TLSClient, CSR: csr, Actor: svcActor})
	if err != nil || in.KeyID != 0 {
		t.Fatalf("issue from a CSR = %+v, %v; want a certificate without a stored key", in, err)
	}
	return in.Record.ID
}

func (f *svcFixture) target(t *testing.T, in deploy.TargetInput) *deploy.TargetView {
	t.Helper()
	v, err := f.svc.CreateTarget(t.Context(), svcActor, in)
	if err != nil {
		t.Fatalf("CreateTarget(%s): %v", in.Name, err)
	}
	return v
}

func (f *svcFixture) start(t *testing.T, certID, targetID int64) *deploy.DeploymentView {
	t.Helper()
	d, created, err := f.svc.Start(t.Context(), svcActor, certID, targetID)
	if err != nil || !created || d.State != inventory.DeployPrepared {
		t.Fatalf("Start = %+v, %t, %v; want a new prepared deployment", d, created, err)
	}
	return d
}

func (f *svcFixture) audit(t *testing.T) []inventory.AuditEvent {
	t.Helper()
	events, _, err := f.st.ListAudit(t.Context(), time.Time{}, inventory.Page{Limit: inventory.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func (f *svcFixture) hasAudit(t *testing.T, action, object string) bool {
	t.Helper()
	return slices.ContainsFunc(f.audit(t), func(e inventory.AuditEvent) bool { return e.Action == action && e.Object == object })
}

func ptr[T any](v T) *T { return &v }

func actionsOf(steps []inventory.DeploymentStep) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Action
	}
	return out
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *inventory.FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("error = %v, want a field error on %s", err, field)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q has several lines", err)
	}
}

func sha256Hex(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// servedSHA256 returns the SHA-256 of the leaf addr serves for sni.
func servedSHA256(t *testing.T, addr, sni string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: sni, InsecureSkipVerify: true}) //nolint:gosec // compares hashes
	if err != nil {
		t.Fatalf("probe %s: %v", addr, err)
	}
	defer conn.Close()
	return sha256Hex(conn.ConnectionState().PeerCertificates[0])
}

// waitServed waits until addr serves the leaf want (nginx reloads
// asynchronously).
func waitServed(t *testing.T, addr, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for got := servedSHA256(t, addr, "localhost"); got != want; got = servedSHA256(t, addr, "localhost") {
		if time.Now().After(deadline) {
			t.Fatalf("%s serves %s, want %s", addr, got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// site is an nginx serving dir/fullchain.pem and dir/privkey.pem.
type site struct {
	dir   string
	nginx *testenv.Nginx
	addr  string
}

func startSite(t *testing.T) *site {
	t.Helper()
	dir := t.TempDir()
	n := testenv.StartNginx(t, []testenv.NginxServer{{Name: "localhost",
		CertFile: filepath.Join(dir, "fullchain.pem"), KeyFile: filepath.Join(dir, "privkey.pem")}})
	return &site{dir: dir, nginx: n, addr: n.Servers[0].Listen}
}

// check is the server name for check of the site.
func (s *site) check(t *testing.T) inventory.CheckSpec {
	t.Helper()
	_, port, err := net.SplitHostPort(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return inventory.CheckSpec{Host: "127.0.0.1", Port: p, SNI: "localhost"}
}

// input is a directory target deploying to the site with preset.
func (s *site) input(t *testing.T, name, preset string) deploy.TargetInput {
	return deploy.TargetInput{Name: name, Preset: preset, Method: inventory.MethodDirectory, Directory: s.dir,
		TestCommand: ptr(s.nginx.TestCommand()), ReloadCommand: ptr(s.nginx.ReloadCommand()), Check: s.check(t)}
}

// putLayout stores a user layout whose files are given as JSON.
func (f *svcFixture) putLayout(t *testing.T, name, files string) {
	t.Helper()
	if _, err := f.svc.PutLayout(t.Context(), svcActor, inventory.DeployLayout{Name: name, Files: []byte(files)}); err != nil {
		t.Fatalf("PutLayout(%s): %v", name, err)
	}
}

// TestInstallNginx installs on a real nginx: confirmed with the new
// certificate served; a layout that serves no intermediates fails the
// check and is rolled back; a layout whose test command fails is
// restored; a manual roll back restores the files the first install
// replaced.
func TestInstallNginx(t *testing.T) {
	f := newSvcFixture(t, deploy.ServiceOptions{})
	ctx := t.Context()
	s := startSite(t)
	original := servedSHA256(t, s.addr, "localhost")
	good := f.target(t, s.input(t, "web", "nginx"))
	a := f.issue(t)
	d := f.start(t, a.Record.ID, good.ID)
	done, err := f.svc.Install(ctx, svcActor, d.ID)
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	if done.State != inventory.DeployConfirmed || done.Attempts != 1 || done.LastCheck == nil || !done.LastCheck.Passed ||
		done.Backup == "" {
		t.Fatalf("after install: state %s, attempts %d, check %+v, backup %q; want confirmed with a backup",
			done.State, done.Attempts, done.LastCheck, done.Backup)
	}
	if got := actionsOf(done.Steps); !slices.Equal(got, []string{"prepared", "installed", "checked"}) {
		t.Errorf("steps = %v, want prepared, installed, checked", got)
	}
	if done.Target != "web" || done.Method != inventory.MethodDirectory || done.Certificate != "localhost" {
		t.Errorf("names = %q %q %q", done.Target, done.Method, done.Certificate)
	}
	waitServed(t, s.addr, a.Record.SHA256)
	if !f.hasAudit(t, "deployment.install", "deployment:"+strconv.FormatInt(d.ID, 10)) {
		t.Error("install not audited")
	}
	checked, err := f.svc.Check(ctx, svcActor, d.ID)
	if err != nil || checked.State != inventory.DeployConfirmed || checked.LastCheck.Source != "probe" {
		t.Errorf("Check = %+v, %v; want confirmed by a probe", checked, err)
	}
	testMissingIntermediates(t, f, s, a.Record.SHA256)
	testFailingTestCommand(t, f, s, a.Record.SHA256)
	rolled, err := f.svc.Rollback(ctx, svcActor, d.ID)
	if err != nil || rolled.State != inventory.DeployRolledBack || rolled.Backup != "" {
		t.Fatalf("Rollback = %+v, %v; want rolled_back", rolled, err)
	}
	waitServed(t, s.addr, original)
	if _, err := f.svc.Rollback(ctx, svcActor, d.ID); !errors.Is(err, inventory.ErrState) {
		t.Errorf("second Rollback = %v, want a state error (no backup)", err)
	}
}

// testMissingIntermediates deploys with a layout that writes the leaf
// alone: nginx serves it, the check finds the intermediate missing, and
// the roll back brings back the certificate served before.
func testMissingIntermediates(t *testing.T, f *svcFixture, s *site, served string) {
	got := installWithLayout(t, f, s, "leaf-only", `[{"path":"fullchain.pem","content":"cert"},{"path":"privkey.pem","content":"key"}]`)
	if got.State != inventory.DeployFailed || got.LastCheck == nil || got.LastCheck.Passed || got.LastCheck.IntermediatesServed {
		t.Fatalf("state %s, check %+v; want failed for the missing intermediate", got.State, got.LastCheck)
	}
	if acts := actionsOf(got.Steps); !slices.Contains(acts, "check_failed") || !slices.Contains(acts, "rolled_back") {
		t.Errorf("steps = %v, want check_failed and rolled_back", acts)
	}
	waitServed(t, s.addr, served)
	// Check from the manager fails the same way and changes no state.
	checked, err := f.svc.Check(t.Context(), svcActor, got.ID)
	if err != nil || checked.State != inventory.DeployFailed || checked.LastCheck.Passed {
		t.Errorf("Check = %+v, %v; want failed still", checked, err)
	}
}

// testFailingTestCommand writes the key to a file nginx does not read:
// the certificate no longer matches the key nginx loads, nginx -t fails
// and the replaced file comes back.
func testFailingTestCommand(t *testing.T, f *svcFixture, s *site, served string) {
	got := installWithLayout(t, f, s, "wrong-key", `[{"path":"fullchain.pem","content":"fullchain"},{"path":"other.pem","content":"key"}]`)
	if got.State != inventory.DeployFailed || got.LastCheck != nil {
		t.Fatalf("state %s, check %+v; want failed before any check", got.State, got.LastCheck)
	}
	if acts := actionsOf(got.Steps); !slices.Equal(acts[len(acts)-2:], []string{"install_failed", "rolled_back"}) {
		t.Errorf("steps = %v, want install_failed, rolled_back", acts)
	}
	failed := got.Steps[len(got.Steps)-2]
	if !strings.Contains(failed.Detail, "test") || strings.Contains(failed.Detail, "\n") || failed.Output == "" {
		t.Errorf("install_failed step = %+v, want a one-line detail naming the test command, and its output", failed)
	}
	waitServed(t, s.addr, served)
}

// installWithLayout stores the user layout name with files, adds target
// web-NAME of s using it and installs a new certificate there; it
// returns the deployment after the install.
func installWithLayout(t *testing.T, f *svcFixture, s *site, name, files string) *deploy.DeploymentView {
	t.Helper()
	f.putLayout(t, name, files)
	tg := f.target(t, s.input(t, "web-"+name, name))
	cert := f.issue(t)
	d := f.start(t, cert.Record.ID, tg.ID)
	got, err := f.svc.Install(t.Context(), svcActor, d.ID)
	if err != nil {
		t.Fatalf("Install: %v", err)
	}
	return got
}

// TestInstallSSH installs over SSH (a real sshd) into a directory a real
// nginx serves, and fails cleanly against a wrong host key.
func TestInstallSSH(t *testing.T) {
	f := newSvcFixture(t, deploy.ServiceOptions{SSHTimeout: 10 * time.Second})
	sshd := testenv.StartSSHD(t)
	s := startSite(t)
	host, port, _ := net.SplitHostPort(sshd.Addr)
	p, _ := strconv.Atoi(port)
	in := s.input(t, "web-ssh", "nginx")
	in.Method, in.SSH = inventory.MethodSSH, &inventory.SSHAccess{Host: host, Port: p, User: sshd.User, HostKey: sshd.HostKey}
	in.SSHPrivateKey = ptr(string(sshd.ClientKey))
	tg := f.target(t, in)
	if !tg.HasSSHKey || tg.HasSSHPassword {
		t.Errorf("target = %+v, want an SSH key and no password", tg)
	}
	a := f.issue(t)
	d := f.start(t, a.Record.ID, tg.ID)
	got, err := f.svc.Install(t.Context(), svcActor, d.ID)
	if err != nil || got.State != inventory.DeployConfirmed {
		t.Fatalf("Install over SSH = %+v, %v; want confirmed\nsshd: %s", got, err, sshd.Log())
	}
	waitServed(t, s.addr, a.Record.SHA256)
	other := testenv.StartSSHD(t) // another server's host key
	in.Name, in.SSH = "web-ssh-wrong-key", &inventory.SSHAccess{Host: host, Port: p, User: sshd.User, HostKey: other.HostKey}
	wrong := f.target(t, in)
	d2 := f.start(t, a.Record.ID, wrong.ID)
	got, err = f.svc.Install(t.Context(), svcActor, d2.ID)
	if err != nil || got.State != inventory.DeployFailed || got.Steps[len(got.Steps)-1].Action != "install_failed" {
		t.Fatalf("Install with a wrong host key = %+v, %v; want failed", got, err)
	}
	t.Logf("wrong host key: %s", got.Steps[len(got.Steps)-1].Detail)
}

// TestManualTarget covers what a manual target allows: no install from
// here, continue without a check, reports made on site, packages and the
// zip.
func TestManualTarget(t *testing.T) {
	f := newSvcFixture(t, deploy.ServiceOptions{})
	ctx := t.Context()
	tg := f.target(t, deploy.TargetInput{Name: "shop", Preset: "nginx", Method: inventory.MethodManual,
		AdminEmail: "ops@example.com"})
	if tg.TestCommand != "nginx -t" || tg.ReloadCommand != "nginx -s reload" || !tg.RollbackOnFailure {
		t.Errorf("defaults = %q %q %t, want the preset's commands and roll back", tg.TestCommand, tg.ReloadCommand,
			tg.RollbackOnFailure)
	}
	a := f.issue(t)
	d := f.start(t, a.Record.ID, tg.ID)
	if again, created, err := f.svc.Start(ctx, svcActor, a.Record.ID, tg.ID); err != nil || created || again.ID != d.ID {
		t.Errorf("second Start = %+v, %t, %v; want the same process", again, created, err)
	}
	if _, err := f.svc.Install(ctx, svcActor, d.ID); !errors.Is(err, inventory.ErrState) || !strings.Contains(err.Error(), "package") {
		t.Errorf("Install on a manual target = %v, want a state error pointing to the package", err)
	}
	if _, err := f.svc.Check(ctx, svcActor, d.ID); !errors.Is(err, inventory.ErrState) {
		t.Errorf("Check without a check host = %v, want a state error", err)
	}
	_, err := f.svc.Continue(ctx, svcActor, d.ID, " ")
	wantField(t, err, "reason")
	got, err := f.svc.Continue(ctx, svcActor, d.ID, "installed by the shop's admin")
	if err != nil || got.State != inventory.DeployConfirmed || !got.Unchecked {
		t.Fatalf("Continue = %+v, %v; want confirmed, unchecked", got, err)
	}
	if !f.hasAudit(t, "deployment.continue_unchecked", "deployment:"+strconv.FormatInt(d.ID, 10)) {
		t.Error("continue not audited")
	}
	if _, err := f.svc.Continue(ctx, svcActor, d.ID, "again"); !errors.Is(err, inventory.ErrState) {
		t.Errorf("Continue when confirmed = %v, want a state error", err)
	}
	testReports(t, f, d.ID, a)
	testPackages(t, f, d.ID, a)
}

// testReports hands in a report showing another certificate (refused,
// nothing changed) and one showing the deployment's (confirmed).
func testReports(t *testing.T, f *svcFixture, id int64, a *ca.Issued) {
	ctx := t.Context()
	before, err := f.svc.GetDeployment(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	other := f.issue(t)
	report := func(leaf *x509.Certificate) []byte {
		r := &sitereport.Report{Format: sitereport.Format, Version: sitereport.Version, Time: time.Now().UTC(),
			Address: "shop.example.com:443", ServerName: "localhost", Chain: [][]byte{leaf.Raw, a.Chain[0].Raw}}
		data, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	_, err = f.svc.AcceptReport(ctx, svcActor, id, report(other.Certificate))
	wantField(t, err, "report")
	after, err := f.svc.GetDeployment(ctx, id)
	if err != nil || after.Version != before.Version || len(after.Steps) != len(before.Steps) || after.LastCheck != nil {
		t.Errorf("refused report changed the deployment: %+v, %v", after, err)
	}
	_, err = f.svc.AcceptReport(ctx, svcActor, id, []byte("not a report"))
	wantField(t, err, "report")
	got, err := f.svc.AcceptReport(ctx, svcActor, id, report(a.Certificate))
	if err != nil || got.State != inventory.DeployConfirmed || got.Unchecked || got.LastCheck == nil ||
		got.LastCheck.Source != "report" || !got.LastCheck.Passed {
		t.Fatalf("AcceptReport = %+v, %v; want confirmed and checked from the report", got, err)
	}
	if acts := actionsOf(got.Steps); !slices.Contains(acts, "report_accepted") {
		t.Errorf("steps = %v, want report_accepted", acts)
	}
}

// testPackages downloads the encrypted package and the zip, each
// audited as a key export without the password.
func testPackages(t *testing.T, f *svcFixture, id int64, a *ca.Issued) {
	ctx := t.Context()
	const password = "correct horse battery"
	_, _, err := f.svc.Package(ctx, svcActor, id, "short")
	wantField(t, err, "password")
	data, name, err := f.svc.Package(ctx, svcActor, id, password)
	if err != nil || !strings.HasSuffix(name, deploy.PackageExtension) {
		t.Fatalf("Package = %d bytes, %q, %v", len(data), name, err)
	}
	p, err := archive.Open(data, password)
	if err != nil {
		t.Fatalf("OpenPackage: %v", err)
	}
	if p.Target != "shop" || p.Preset != "nginx" || p.Job.ExpectedSHA256 != a.Record.SHA256 || len(p.Job.Plan.Files) != 2 {
		t.Errorf("package = %+v, want shop, nginx, the certificate and two files", p)
	}
	if _, err := archive.Open(data, "wrong password!!"); !errors.Is(err, archive.ErrWrongPassword) {
		t.Errorf("OpenPackage with a wrong password = %v", err)
	}
	zipData, zipName, err := f.svc.Conventional(ctx, svcActor, id)
	if err != nil || !strings.HasSuffix(zipName, ".zip") || !bytes.HasPrefix(zipData, []byte("PK")) {
		t.Fatalf("Conventional = %d bytes, %q, %v", len(zipData), zipName, err)
	}
	exports := 0
	for _, e := range f.audit(t) {
		if strings.Contains(e.Summary, password) {
			t.Errorf("audit %s holds the password: %s", e.Action, e.Summary)
		}
		if e.Action == "key.export" && e.Object == "key:"+strconv.FormatInt(a.KeyID, 10) {
			exports++
		}
	}
	if exports != 2 {
		t.Errorf("%d key exports audited, want 2", exports)
	}
}

// TestRequestInstall e-mails the install request through a real SMTP
// server: the package is attached, the body has the install command and
// never the password.
func TestRequestInstall(t *testing.T) {
	srv := testenv.NewSMTPServer(t, testenv.SMTPOptions{})
	f := newSvcFixture(t, deploy.ServiceOptions{})
	m := mail.New(f.st, f.settings, mail.Config{Roots: srv.Roots, Timeout: 5 * time.Second}, nil)
	f.svc = deploy.NewService(f.st, f.sealer, deploy.ServiceOptions{Mail: m, Trust: truststore.New(f.st, truststore.Options{})})
	ctx := t.Context()
	tg := f.target(t, deploy.TargetInput{Name: "shop", Preset: "apache", Method: inventory.MethodManual,
		AdminEmail: "ops@example.com"})
	a := f.issue(t)
	d := f.start(t, a.Record.ID, tg.ID)
	const password = "Install-Secret-4711"
	if _, err := f.svc.RequestInstall(ctx, svcActor, d.ID, "", password, ""); !errors.Is(err, mail.ErrNotSetUp) ||
		!errors.Is(err, inventory.ErrState) {
		t.Fatalf("RequestInstall without SMTP = %v, want not set up", err)
	}
	if _, err := f.settings.Update(ctx, svcActor, settings.Update{SMTPHost: ptr(srv.Addr), Security: ptr(settings.SecurityNone),
		From: ptr("certkeeper@example.com")}); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.RequestInstall(ctx, svcActor, d.ID, "", password, "Please install before Friday.")
	if err != nil || got.State != inventory.DeployInstallRequested {
		t.Fatalf("RequestInstall = %+v, %v; want install_requested", got, err)
	}
	msgs := srv.Wait(1, 5*time.Second)
	if len(msgs) != 1 || msgs[0].To[0] != "ops@example.com" {
		t.Fatalf("received %+v, want one message to ops@example.com", msgs)
	}
	body, attachment := mimeParts(t, msgs[0].Data)
	if !strings.Contains(body, "certkeeper install ") || !strings.Contains(body, "before Friday") ||
		strings.Contains(string(msgs[0].Data), password) {
		t.Errorf("body = %q; want the install command and the message, never the password", body)
	}
	p, err := archive.Open(attachment, password)
	if err != nil || p.Job.ExpectedSHA256 != a.Record.SHA256 {
		t.Fatalf("attached package: %+v, %v", p, err)
	}
	for _, e := range f.audit(t) {
		if strings.Contains(e.Summary, password) {
			t.Errorf("audit %s holds the password", e.Action)
		}
	}
}

// TestAgentJobs queues a job for an agent, hands it out to that agent
// only, and applies the agent's outcome.
func TestAgentJobs(t *testing.T) {
	f := newSvcFixture(t, deploy.ServiceOptions{})
	ctx := t.Context()
	agentID, otherID := f.agent(t, "web1"), f.agent(t, "web2")
	tg := f.target(t, deploy.TargetInput{Name: "web1-nginx", Preset: "nginx", Method: inventory.MethodAgent,
		Directory: "/etc/nginx/tls", AgentID: agentID, Check: inventory.CheckSpec{Host: "localhost"}})
	if tg.Agent != "web1" {
		t.Errorf("target agent = %q, want web1", tg.Agent)
	}
	a := f.issue(t)
	d := f.start(t, a.Record.ID, tg.ID)
	got, err := f.svc.Install(ctx, svcActor, d.ID)
	if err != nil || got.State != inventory.DeployInstallRequested {
		t.Fatalf("Install on an agent target = %+v, %v; want install_requested", got, err)
	}
	for range 2 {
		jobs, err := f.svc.AgentJobs(ctx, agentID)
		if err != nil || len(jobs) != 1 || jobs[0].DeploymentID != d.ID || jobs[0].Job.ExpectedSHA256 != a.Record.SHA256 ||
			!slices.ContainsFunc(jobs[0].Job.Plan.Files, func(p engine.PlanFile) bool { return p.Secret }) {
			t.Fatalf("AgentJobs = %+v, %v; want the job with the key file", jobs, err)
		}
	}
	if jobs, err := f.svc.AgentJobs(ctx, otherID); err != nil || len(jobs) != 0 {
		t.Errorf("AgentJobs of another agent = %+v, %v; want none", jobs, err)
	}
	steps, _ := f.st.DeploymentSteps(ctx, d.ID)
	if n := strings.Count(strings.Join(actionsOf(steps), ","), "agent_fetched"); n != 1 {
		t.Errorf("steps = %v, want agent_fetched once", actionsOf(steps))
	}
	out := &engine.Outcome{Installed: true, Install: &engine.InstallReport{Written: []string{"fullchain.pem", "privkey.pem"},
		ReloadOutput: "signal process started"},
		Check: &inventory.CheckResult{Time: time.Now().UTC(), Address: "localhost:443", Passed: true, Match: true,
			ExpectedSHA256: a.Record.SHA256, ServedSHA256: a.Record.SHA256}}
	if _, err := f.svc.AgentResult(ctx, otherID, d.ID, out); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("AgentResult from another agent = %v, want not found", err)
	}
	res, err := f.svc.AgentResult(ctx, agentID, d.ID, out)
	if err != nil || res.State != inventory.DeployConfirmed || res.LastCheck.Source != "agent" || res.Attempts != 1 {
		t.Fatalf("AgentResult = %+v, %v; want confirmed by the agent", res, err)
	}
	steps, _ = f.st.DeploymentSteps(ctx, d.ID)
	if last := steps[len(steps)-2]; last.Action != "installed" || !strings.Contains(last.Output, "signal process started") ||
		last.Actor != "agent:web1" {
		t.Errorf("install step = %+v, want the agent's output", last)
	}
	if _, err := f.svc.AgentResult(ctx, agentID, d.ID, out); !errors.Is(err, inventory.ErrState) {
		t.Errorf("second AgentResult = %v, want a state error", err)
	}
}

// agent enrolls an agent called name and returns its ID.
func (f *svcFixture) agent(t *testing.T, name string) int64 {
	t.Helper()
	now := time.Now().UTC()
	tok := sha256.Sum256([]byte("token " + name))
	hash := hex.EncodeToString(tok[:])
	if err := f.st.PutAgentToken(t.Context(), &inventory.AgentToken{Hash: hash, Name: name, CreatedBy: svcActor,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(name))
	a := &inventory.Agent{Name: name, CertificateSHA256: hex.EncodeToString(sum[:]), EnrolledAt: now}
	if err := f.st.EnrollAgent(t.Context(), hash, a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// mimeParts returns the text body and the attachment of a multipart
// message.
func mimeParts(t *testing.T, data []byte) (body string, attachment []byte) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		t.Fatalf("message is not multipart: %v", err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return body, attachment
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = part
		switch part.Header.Get("Content-Transfer-Encoding") {
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, part)
		case "quoted-printable":
			r = quotedprintable.NewReader(part)
		}
		content, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if part.FileName() != "" {
			attachment = content
		} else {
			body = string(content)
		}
	}
}
