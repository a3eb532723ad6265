package deploy_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// sshKeys returns an unencrypted OpenSSH private key and an
// authorized_keys host key.
func sshKeys(t *testing.T) (private, hostKey string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block)), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
}

// TestTargetValidation refuses each bad field with a one-line field
// error, storing and auditing nothing.
func TestTargetValidation(t *testing.T) {
	f := newSvcFixture(t, deploy.ServiceOptions{})
	a := f.issue(t)
	noKey := f.issueCSRCert(t)
	private, hostKey := sshKeys(t)
	ssh := func(in *deploy.TargetInput) {
		in.Method, in.SSH = inventory.MethodSSH, &inventory.SSHAccess{Host: "web1.example.com", User: "deploy", HostKey: hostKey}
		in.SSHPrivateKey = ptr(private)
	}
	for _, tc := range []struct {
		name, field string
		change      func(*deploy.TargetInput)
	}{
		{"no name", "name", func(in *deploy.TargetInput) { in.Name = " " }},
		{"two-line name", "name", func(in *deploy.TargetInput) { in.Name = "a\nb" }},
		{"unknown preset", "preset", func(in *deploy.TargetInput) { in.Preset = "iis" }},
		{"unknown method", "method", func(in *deploy.TargetInput) { in.Method = "ftp" }},
		{"relative directory", "directory", func(in *deploy.TargetInput) { in.Directory = "etc/nginx" }},
		{"no directory", "directory", func(in *deploy.TargetInput) { in.Directory = "" }},
		{"dot-dot directory", "directory", func(in *deploy.TargetInput) { in.Directory = "/etc/../root" }},
		{"bad owner", "owner", func(in *deploy.TargetInput) { in.Owner = "root group" }},
		{"two-line command", "reload_command", func(in *deploy.TargetInput) { in.ReloadCommand = ptr("a\nb") }},
		{"long timeout", "reload_timeout_seconds", func(in *deploy.TargetInput) { in.ReloadTimeout = 2 * time.Hour }},
		{"ssh without access", "ssh", func(in *deploy.TargetInput) { ssh(in); in.SSH = nil }},
		{"ssh bad host key", "ssh.host_key", func(in *deploy.TargetInput) { ssh(in); in.SSH.HostKey = "ssh-ed25519 nope" }},
		{"ssh bad port", "ssh.port", func(in *deploy.TargetInput) { ssh(in); in.SSH.Port = 70000 }},
		{"ssh no user", "ssh.user", func(in *deploy.TargetInput) { ssh(in); in.SSH.User = "" }},
		{"ssh no credentials", "ssh_password", func(in *deploy.TargetInput) { ssh(in); in.SSHPrivateKey = nil }},
		{"ssh bad key", "ssh_private_key", func(in *deploy.TargetInput) { ssh(in); in.SSHPrivateKey = ptr("-----BEGIN nonsense") }},
		{"ssh access on a directory target", "ssh", func(in *deploy.TargetInput) { ssh(in); in.Method = inventory.MethodDirectory }},
		{"agent missing", "agent_id", func(in *deploy.TargetInput) { in.Method, in.AgentID = inventory.MethodAgent, 99 }},
		{"agent on a directory target", "agent_id", func(in *deploy.TargetInput) { in.AgentID = 3 }},
		{"check port", "check.port", func(in *deploy.TargetInput) { in.Check.Port = -1 }},
		{"check host", "check.host", func(in *deploy.TargetInput) { in.Check.Host = "https://web1" }},
		{"check SNI an IP", "check.sni", func(in *deploy.TargetInput) { in.Check.SNI = "10.0.0.1" }},
		{"check port without host", "check.host", func(in *deploy.TargetInput) { in.Check = inventory.CheckSpec{Port: 8443} }},
		{"client certificate unknown", "check.client_certificate_id", func(in *deploy.TargetInput) { in.Check.ClientCertificateID = 999 }},
		{"client certificate without key", "check.client_certificate_id",
			func(in *deploy.TargetInput) { in.Check.ClientCertificateID = noKey }},
		{"admin e-mail", "admin_email", func(in *deploy.TargetInput) { in.AdminEmail = "ops at example.com" }},
		{"key store without password", "keystore_password", func(in *deploy.TargetInput) { in.Preset = "tomcat-pkcs12" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := deploy.TargetInput{Name: "web1", Preset: "nginx", Method: inventory.MethodDirectory, Directory: "/etc/nginx/tls",
				Check: inventory.CheckSpec{Host: "web1.example.com", ClientCertificateID: a.Record.ID}}
			tc.change(&in)
			_, err := f.svc.CreateTarget(t.Context(), svcActor, in)
			wantField(t, err, tc.field)
			if strings.Contains(err.Error(), private) || strings.Contains(err.Error(), "BEGIN") {
				t.Errorf("error quotes the private key: %v", err)
			}
		})
	}
	if list, _, err := f.svc.ListTargets(t.Context(), inventory.Page{}); err != nil || len(list) != 0 {
		t.Errorf("targets after refusals = %+v, %v; want none", list, err)
	}
	for _, e := range f.audit(t) {
		if strings.HasPrefix(e.Action, "target.") {
			t.Errorf("refused input audited: %+v", e)
		}
	}
}

// TestTargetSecrets seals the SSH key and key-store password, shows only
// whether they are set, keeps them across a rename and an update that
// leaves them out, and never writes them to the audit trail.
func TestTargetSecrets(t *testing.T) {
	f := newSvcFixture(t, deploy.ServiceOptions{})
	ctx := t.Context()
	private, hostKey := sshKeys(t)
	const storePassword = "Keystore-Secret-88"
	in := deploy.TargetInput{Name: "tomcat1", Preset: "tomcat-pkcs12", Method: inventory.MethodSSH, Directory: "/opt/tomcat/conf",
		SSH:           &inventory.SSHAccess{Host: "tomcat1.example.com", User: "deploy", HostKey: hostKey + " comment"},
		SSHPrivateKey: ptr(private), KeystorePassword: ptr(storePassword), RollbackOnFailure: ptr(false)}
	tg := f.target(t, in)
	if !tg.HasSSHKey || !tg.HasKeystorePassword || tg.HasSSHPassword || tg.SealedSecrets != nil || tg.RollbackOnFailure {
		t.Fatalf("target = %+v; want key and key-store password set, nothing sealed shown, no roll back", tg)
	}
	if tg.SSH.HostKey != hostKey || tg.ReloadCommand != "systemctl restart tomcat" {
		t.Errorf("host key %q, reload %q; want the key normalized and the preset's reload", tg.SSH.HostKey, tg.ReloadCommand)
	}
	stored, err := f.st.GetTarget(ctx, tg.ID)
	if err != nil || len(stored.SealedSecrets) == 0 || strings.Contains(string(stored.SealedSecrets), storePassword) {
		t.Fatalf("stored secrets = %q, %v; want sealed", stored.SealedSecrets, err)
	}
	// Rename, leaving the secrets out: they are kept (sealed again for
	// the new name).
	in.Name, in.SSHPrivateKey, in.KeystorePassword = "tomcat-1", nil, nil
	up, err := f.svc.UpdateTarget(ctx, svcActor, tg.ID, tg.Version, in)
	if err != nil || !up.HasSSHKey || !up.HasKeystorePassword || up.Name != "tomcat-1" || up.Version != 2 {
		t.Fatalf("UpdateTarget = %+v, %v; want renamed with the secrets kept", up, err)
	}
	if _, err := f.svc.UpdateTarget(ctx, svcActor, tg.ID, tg.Version, in); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("update with a stale version = %v, want a conflict", err)
	}
	in.KeystorePassword = ptr("")
	_, err = f.svc.UpdateTarget(ctx, svcActor, tg.ID, up.Version, in)
	wantField(t, err, "keystore_password")
	in.Preset, in.SSHPassword = "nginx", ptr("ssh-Password-77")
	up, err = f.svc.UpdateTarget(ctx, svcActor, tg.ID, up.Version, in)
	if err != nil || up.HasKeystorePassword || !up.HasSSHPassword || !up.HasSSHKey {
		t.Fatalf("UpdateTarget = %+v, %v; want the key-store password removed and an SSH password", up, err)
	}
	n, err := f.svc.RewrapSecrets(ctx, f.sealer.Rewrap)
	if err != nil || n != 1 {
		t.Errorf("RewrapSecrets = %d, %v; want 1", n, err)
	}
	if again, err := f.svc.GetTarget(ctx, tg.ID); err != nil || !again.HasSSHPassword {
		t.Errorf("after rewrap = %+v, %v", again, err)
	}
	for _, e := range f.audit(t) {
		for _, secret := range []string{private, storePassword, "ssh-Password-77", "BEGIN"} {
			if strings.Contains(e.Summary, secret) {
				t.Errorf("audit %s holds a secret: %s", e.Action, e.Summary)
			}
		}
	}
	if err := f.svc.DeleteTarget(ctx, svcActor, tg.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.GetTarget(ctx, tg.ID); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("GetTarget after delete = %v, want not found", err)
	}
}

// TestLayouts stores, lists and deletes user layouts.
func TestLayouts(t *testing.T) {
	f := newSvcFixture(t, deploy.ServiceOptions{})
	ctx := t.Context()
	_, err := f.svc.PutLayout(ctx, svcActor, inventory.DeployLayout{Name: "nginx", Files: []byte(`[]`)})
	wantField(t, err, "name")
	_, err = f.svc.PutLayout(ctx, svcActor, inventory.DeployLayout{Name: "mine",
		Files: []byte(`[{"path":"a.pem","content":"nonsense"}]`)})
	wantField(t, err, "files")
	f.putLayout(t, "mine", `[{"path":"site.pem","content":"combined","mode":"0640"}]`)
	f.putLayout(t, "mine", `[{"path":"site.pem","content":"combined","mode":"0600"}]`) // replaces
	list, err := f.svc.Presets(ctx)
	if err != nil || list[len(list)-1].Name() != "mine" || list[len(list)-1].Builtin || !list[0].Builtin {
		t.Fatalf("Presets = %d presets, %v; want the built-ins, then mine", len(list), err)
	}
	tg := f.target(t, deploy.TargetInput{Name: "site", Preset: "mine", Method: inventory.MethodManual})
	if err := f.svc.DeleteLayout(ctx, svcActor, "mine"); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("DeleteLayout of a used layout = %v, want a conflict", err)
	}
	if err := f.svc.DeleteLayout(ctx, svcActor, "nginx"); !errors.Is(err, inventory.ErrState) {
		t.Errorf("DeleteLayout of a built-in = %v, want a state error", err)
	}
	if err := f.svc.DeleteTarget(ctx, svcActor, tg.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteLayout(ctx, svcActor, "mine"); err != nil {
		t.Errorf("DeleteLayout = %v", err)
	}
}
