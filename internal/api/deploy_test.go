package api_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/deploy/archive"
)

// Secrets given to targets and packages; no response or audit event may
// hold them.
const (
	deploySSHPassword      = "Ssh-Login-Secret-31"
	deployKeystorePassword = "Keystore-Secret-72"
	deployPackagePassword  = "Package-Secret-5150"
)

// testDeployments drives targets, presets and deployments through the
// client: roles, validation, If-Match, the install on a directory target,
// the key exports, and that no secret ever shows.
func testDeployments(t *testing.T, e *env) {
	if _, _, err := e.auth.EnsureDefault(ctx); err != nil {
		t.Fatal(err)
	}
	issued, err := e.auth.Issue(ctx, ca.Request{Requester: ca.Admin("test"), Profile: ca.TLSServer, DNSNames: []string{"www.example.com"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, Actor: "test"})
	if err != nil {
		t.Fatal(err)
	}
	sshKey := testSSHKey(t)
	tgt := testTargets(t, e, sshKey)
	testPresets(t, e)
	testDeploymentFlow(t, e, issued.Record.ID, tgt)
	for _, secret := range []string{deploySSHPassword, deployKeystorePassword, deployPackagePassword, sshKey, "PRIVATE KEY"} {
		if e.rec.contains(secret) {
			t.Errorf("a response holds the secret %.20q", secret)
		}
	}
	audit, err := e.admin.ListAudit(ctx, client.AuditQuery{Page: client.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(audit)
	for _, secret := range []string{deploySSHPassword, deployKeystorePassword, deployPackagePassword, "PRIVATE KEY"} {
		if strings.Contains(string(doc), secret) {
			t.Errorf("the audit trail holds the secret %.20q", secret)
		}
	}
	if !strings.Contains(string(doc), `"key.export"`) || !strings.Contains(string(doc), `"target.create"`) {
		t.Errorf("audit trail lacks key.export or target.create: %s", doc)
	}
}

func testSSHKey(t *testing.T) string {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block))
}

func testHostKey(t *testing.T) string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
}

func ptrTo[T any](v T) *T { return &v }

// testTargets creates, reads, updates and deletes targets; it returns a
// directory target whose directory is a temporary one.
func testTargets(t *testing.T, e *env, sshKey string) *client.Target {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "cert.pem"), []byte("the certificate served before\n"))
	in := client.TargetInput{Name: "files", Preset: "generic", Method: "directory", Directory: dir,
		TestCommand: ptrTo(""), ReloadCommand: ptrTo("")}
	if _, err := e.user.CreateTarget(ctx, in); client.StatusCode(err) != http.StatusForbidden {
		t.Errorf("CreateTarget as a user = %v, want 403", err)
	}
	for field, bad := range map[string]func(*client.TargetInput){
		"method":                 func(in *client.TargetInput) { in.Method = "ftp" },
		"directory":              func(in *client.TargetInput) { in.Directory = "relative" },
		"reload_timeout_seconds": func(in *client.TargetInput) { in.ReloadTimeoutSeconds = 7200 },
		"check.port":             func(in *client.TargetInput) { in.Check = client.CheckSpec{Host: "a.example.com", Port: 99999} },
		"preset":                 func(in *client.TargetInput) { in.Preset = "iis" },
	} {
		b := in
		bad(&b)
		_, err := e.admin.CreateTarget(ctx, b)
		if p := wantProblem(t, err, http.StatusUnprocessableEntity); len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("bad %s: problem %+v, want a field error on it", field, p)
		}
	}
	files, err := e.admin.CreateTarget(ctx, in)
	if err != nil || files.ID == 0 || files.Method != "directory" || !files.RollbackOnFailure {
		t.Fatalf("CreateTarget = %+v, %v", files, err)
	}
	access := &client.SSHAccess{Host: "tomcat.example.com", User: "deploy", HostKey: testHostKey(t)}
	sshIn := client.TargetInput{Name: "tomcat", Preset: "tomcat-pkcs12", Method: "ssh", Directory: "/opt/tomcat/conf",
		SSH: access, SSHPassword: ptrTo(deploySSHPassword), SSHPrivateKey: ptrTo(sshKey),
		KeystorePassword: ptrTo(deployKeystorePassword)}
	tc, err := e.admin.CreateTarget(ctx, sshIn)
	if err != nil || !tc.HasSSHPassword || !tc.HasSSHKey || !tc.HasKeystorePassword {
		t.Fatalf("CreateTarget(ssh) = %+v, %v; want every secret set", tc, err)
	}
	got, err := e.user.GetTarget(ctx, tc.ID)
	if err != nil || got.Version != 1 || got.SSH == nil || got.SSH.User != "deploy" {
		t.Fatalf("GetTarget as a user = %+v, %v", got, err)
	}
	sshIn.Notes, sshIn.SSHPassword, sshIn.SSHPrivateKey, sshIn.KeystorePassword = "renewed yearly", nil, nil, nil
	up, err := e.admin.UpdateTarget(ctx, tc.ID, 1, sshIn)
	if err != nil || up.Version != 2 || !up.HasSSHPassword || !up.HasKeystorePassword || up.Notes != "renewed yearly" {
		t.Fatalf("UpdateTarget = %+v, %v; want version 2 with the secrets kept", up, err)
	}
	_, err = e.admin.UpdateTarget(ctx, tc.ID, 1, sshIn)
	wantProblem(t, err, http.StatusPreconditionFailed)
	body, _ := json.Marshal(sshIn)
	if resp, b := e.raw("PUT", "/api/v1/targets/"+itoa(tc.ID), e.adminToken, "application/json", body); resp.StatusCode != 428 {
		t.Errorf("PUT without If-Match = %d %s, want 428", resp.StatusCode, b)
	}
	if _, err := e.user.UpdateTarget(ctx, tc.ID, 2, sshIn); client.StatusCode(err) != http.StatusForbidden {
		t.Errorf("UpdateTarget as a user = %v, want 403", err)
	}
	if err := e.user.DeleteTarget(ctx, tc.ID); client.StatusCode(err) != http.StatusForbidden {
		t.Errorf("DeleteTarget as a user = %v, want 403", err)
	}
	if err := e.admin.DeleteTarget(ctx, tc.ID); err != nil {
		t.Errorf("DeleteTarget = %v", err)
	}
	if _, err := e.user.GetTarget(ctx, tc.ID); !client.IsNotFound(err) {
		t.Errorf("GetTarget after delete = %v, want 404", err)
	}
	list, err := e.user.ListTargets(ctx, client.Page{})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "files" {
		t.Errorf("ListTargets = %+v, %v; want files", list, err)
	}
	return files
}

func testPresets(t *testing.T, e *env) {
	list, err := e.user.ListPresets(ctx)
	if err != nil || len(list.Items) == 0 || list.Items[0].Name != "nginx" || !list.Items[0].Builtin {
		t.Fatalf("ListPresets = %+v, %v; want nginx first, built in", list, err)
	}
	mine := client.Preset{Name: "mine", Files: []client.PresetFile{{Path: "site.pem", Content: "combined", Mode: "0640"}},
		ReloadCommand: "systemctl reload mine"}
	if _, err := e.user.PutPreset(ctx, mine); client.StatusCode(err) != http.StatusForbidden {
		t.Errorf("PutPreset as a user = %v, want 403", err)
	}
	bad := mine
	bad.Files = []client.PresetFile{{Path: "../x.pem", Content: "cert"}}
	_, err = e.admin.PutPreset(ctx, bad)
	wantProblem(t, err, http.StatusUnprocessableEntity)
	got, err := e.admin.PutPreset(ctx, mine)
	if err != nil || got.Builtin || len(got.Files) != 1 || got.Files[0].Mode != "0640" || !strings.Contains(got.ReloadCommand, "mine") {
		t.Fatalf("PutPreset = %+v, %v", got, err)
	}
	if err := e.admin.DeletePreset(ctx, "nginx"); !client.IsConflict(err) {
		t.Errorf("DeletePreset(nginx) = %v, want 409", err)
	}
	if err := e.admin.DeletePreset(ctx, "mine"); err != nil {
		t.Errorf("DeletePreset = %v", err)
	}
}

// testDeploymentFlow starts and installs a deployment on the directory
// target, then exercises the other actions.
func testDeploymentFlow(t *testing.T, e *env, certID int64, files *client.Target) {
	_, err := e.user.StartDeployment(ctx, client.DeploymentStart{CertificateID: 999999, TargetID: files.ID})
	if p := wantProblem(t, err, http.StatusUnprocessableEntity); p.Errors[0].Field != "certificate_id" {
		t.Errorf("start with an unknown certificate: %+v", p)
	}
	d, err := e.user.StartDeployment(ctx, client.DeploymentStart{CertificateID: certID, TargetID: files.ID})
	if err != nil || d.State != "prepared" || d.Target != "files" || d.Method != "directory" || d.Certificate != "www.example.com" ||
		len(d.Steps) != 1 {
		t.Fatalf("StartDeployment = %+v, %v", d, err)
	}
	again, err := e.user.StartDeployment(ctx, client.DeploymentStart{CertificateID: certID, TargetID: files.ID})
	if err != nil || again.ID != d.ID {
		t.Errorf("second StartDeployment = %+v, %v; want the same process", again, err)
	}
	got, err := e.user.InstallDeployment(ctx, d.ID)
	if err != nil || got.State != "installed" || got.Attempts != 1 || got.Steps[len(got.Steps)-1].Action != "installed" {
		t.Fatalf("InstallDeployment = %+v, %v; want installed", got, err)
	}
	if _, err := os.Stat(filepath.Join(files.Directory, "privkey.pem")); err != nil {
		t.Errorf("installed key file: %v", err)
	}
	_, err = e.user.ContinueDeployment(ctx, d.ID, client.ContinueInput{})
	wantProblem(t, err, http.StatusUnprocessableEntity)
	if _, err := e.user.CheckDeployment(ctx, d.ID); !client.IsConflict(err) {
		t.Errorf("CheckDeployment without a check host = %v, want 409", err)
	}
	_, err = e.user.UploadCheckReport(ctx, d.ID, []byte(`{"format":"something else"}`))
	wantProblem(t, err, http.StatusUnprocessableEntity)
	testDeploymentExports(t, e, d.ID, certID)
	cont, err := e.user.ContinueDeployment(ctx, d.ID, client.ContinueInput{Reason: "checked by hand"})
	if err != nil || cont.State != "confirmed" || !cont.Unchecked {
		t.Errorf("ContinueDeployment = %+v, %v", cont, err)
	}
	wantDeploymentCounts(t, e, certID, client.DeploymentCounts{Total: 1, Confirmed: 1})
	rb, err := e.user.RollbackDeployment(ctx, d.ID)
	if err != nil || rb.State != "rolled_back" {
		t.Errorf("RollbackDeployment = %+v, %v", rb, err)
	}
	wantDeploymentCounts(t, e, certID, client.DeploymentCounts{Total: 1, Failed: 1})
	list, err := e.user.ListDeployments(ctx, client.DeploymentQuery{State: "rolled_back", TargetID: files.ID})
	if err != nil || len(list.Items) != 1 || list.Items[0].Target != "files" {
		t.Errorf("ListDeployments = %+v, %v", list, err)
	}
	if list, err := e.user.ListDeployments(ctx, client.DeploymentQuery{State: "ongoing"}); err != nil || len(list.Items) != 0 {
		t.Errorf("ListDeployments(ongoing) = %+v, %v; want none", list, err)
	}
	if _, err := e.user.ListDeployments(ctx, client.DeploymentQuery{State: "asleep"}); client.StatusCode(err) != http.StatusBadRequest {
		t.Errorf("state=asleep = %v, want 400", err)
	}
	all, err := e.user.ListDeployments(ctx, client.DeploymentQuery{})
	if err != nil || len(all.Items) == 0 {
		t.Fatalf("ListDeployments = %+v, %v; want some", all, err)
	}
	newest, err := e.user.ListDeployments(ctx, client.DeploymentQuery{Newest: true, Page: client.Page{Limit: 1}})
	if err != nil || len(newest.Items) != 1 || newest.Items[0].ID != all.Items[len(all.Items)-1].ID {
		t.Errorf("ListDeployments(newest, 1) = %+v, %v; want deployment %d", newest, err, all.Items[len(all.Items)-1].ID)
	}
	if resp, body := e.raw("GET", "/api/v1/deployments?order=sideways", e.userToken, "", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("order=sideways = %d %s, want 400", resp.StatusCode, body)
	}
	if resp, body := e.raw("GET", "/api/v1/deployments?latest=maybe", e.userToken, "", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("latest=maybe = %d %s, want 400", resp.StatusCode, body)
	}
	latest, err := e.user.ListDeployments(ctx, client.DeploymentQuery{Latest: true})
	if err != nil || len(latest.Items) == 0 || len(latest.Items) > len(all.Items) {
		t.Errorf("ListDeployments(latest) = %+v, %v; want one per target", latest, err)
	}
}

// wantDeploymentCounts checks the deployment counts GetCertificate gives
// certificate certID.
func wantDeploymentCounts(t *testing.T, e *env, certID int64, want client.DeploymentCounts) {
	t.Helper()
	c, err := e.user.GetCertificate(ctx, certID)
	if err != nil || c.Deployments == nil || *c.Deployments != want {
		t.Errorf("GetCertificate(%d).Deployments = %+v, %v; want %+v", certID, c.Deployments, err, want)
	}
}

// testDeploymentExports downloads the package and the zip (admin only)
// and asks for an install request without e-mail set up.
func testDeploymentExports(t *testing.T, e *env, id, certID int64) {
	_, err := e.user.DeploymentPackage(ctx, id, client.PackageInput{Password: deployPackagePassword})
	if client.StatusCode(err) != http.StatusForbidden {
		t.Errorf("DeploymentPackage as a user = %v, want 403", err)
	}
	if _, err := e.user.DeploymentZip(ctx, id); client.StatusCode(err) != http.StatusForbidden {
		t.Errorf("DeploymentZip as a user = %v, want 403", err)
	}
	_, err = e.user.RequestInstall(ctx, id, client.InstallRequest{Password: deployPackagePassword})
	if client.StatusCode(err) != http.StatusForbidden {
		t.Errorf("RequestInstall as a user = %v, want 403", err)
	}
	_, err = e.admin.DeploymentPackage(ctx, id, client.PackageInput{Password: "short"})
	wantProblem(t, err, http.StatusUnprocessableEntity)
	body, _ := json.Marshal(client.PackageInput{Password: deployPackagePassword})
	resp, data := e.raw("POST", "/api/v1/deployments/"+itoa(id)+"/package", e.adminToken, "application/json", body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), deploy.PackageExtension) {
		t.Fatalf("package = %d %v", resp.StatusCode, resp.Header)
	}
	p, err := archive.Open(data, deployPackagePassword)
	if err != nil || p.Target != "files" || len(p.Job.Plan.Files) != 4 {
		t.Errorf("OpenPackage = %+v, %v", p, err)
	}
	resp, data = e.raw("GET", "/api/v1/deployments/"+itoa(id)+"/zip", e.adminToken, "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" || !strings.HasPrefix(string(data), "PK") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), ".zip") {
		t.Errorf("zip = %d %v", resp.StatusCode, resp.Header)
	}
	_, err = e.admin.RequestInstall(ctx, id, client.InstallRequest{Password: deployPackagePassword, To: "ops@example.com"})
	if p := wantProblem(t, err, http.StatusConflict); !strings.Contains(p.Detail, "not set up") {
		t.Errorf("RequestInstall without SMTP: %+v, want not set up", p)
	}
	got, err := e.user.GetDeployment(ctx, id)
	if err != nil || got.CertificateID != certID {
		t.Fatalf("GetDeployment = %+v, %v", got, err)
	}
	n := 0
	for _, s := range got.Steps {
		if s.Action == "package_created" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d package_created steps, want 2 (package and zip)", n)
	}
}
