package web

import (
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/client"
)

// TestTargetFormInput checks what a posted target form sends to the API.
func TestTargetFormInput(t *testing.T) {
	str := func(s string) *string { return &s }
	yes := true
	base := url.Values{"name": {" web "}, "preset": {"nginx"}, "directory": {"/etc/tls"}, "owner": {"www"},
		"ssh_host": {"h"}, "ssh_port": {"2222"}, "ssh_user": {"u"}, "ssh_host_key": {"ssh-ed25519 AAAA"},
		"ssh_password": {"pw"}, "agent_id": {"7"}, "check_host": {"example.org"}, "check_port": {"8443"},
		"check_sni": {"www.example.org"}, "check_starttls": {"smtp"}, "check_client_certificate_id": {"3"}, "admin_email": {"a@example.org"},
		"reload_timeout_seconds": {"90"}, "rollback_shown": {"1"}, "rollback_on_failure": {"1"},
		"test_command": {" true "}, "notes": {" n "}, "clear_keystore_password": {"1"}}
	common := client.TargetInput{Name: "web", Preset: "nginx", Directory: "/etc/tls", Owner: "www",
		ReloadTimeoutSeconds: 90, Check: client.CheckSpec{Host: "example.org", Port: 8443, SNI: "www.example.org",
			ClientCertificateID: 3, StartTLS: "smtp"}, AdminEmail: "a@example.org", RollbackOnFailure: &yes, TestCommand: str("true"),
		KeystorePassword: str(""), Notes: " n "}
	tests := []struct {
		method string
		want   func(in *client.TargetInput)
	}{
		{"ssh", func(in *client.TargetInput) {
			in.SSH = &client.SSHAccess{Host: "h", Port: 2222, User: "u", HostKey: "ssh-ed25519 AAAA"}
			in.SSHPassword = str("pw")
		}},
		{"agent", func(in *client.TargetInput) { in.AgentID = 7 }},
		{"directory", func(*client.TargetInput) {}},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			v := url.Values{"method": {tt.method}}
			for k, x := range base {
				v[k] = x
			}
			r := httptest.NewRequest("POST", "/targets", strings.NewReader(v.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			got, err := readTargetForm(r).input(r)
			if err != nil {
				t.Fatal(err)
			}
			want := common
			want.Method = tt.method
			tt.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("input() =\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// TestTargetFormRefusedNumber checks that a number that does not parse
// is refused for its field and shown again as typed.
func TestTargetFormRefusedNumber(t *testing.T) {
	v := url.Values{"method": {"ssh"}, "ssh_port": {"twenty-two"}, "name": {"web"}}
	r := httptest.NewRequest("POST", "/targets", strings.NewReader(v.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	f := readTargetForm(r)
	_, err := f.input(r)
	if _, fields, ok := formError(err); !ok || fields["ssh.port"] == "" {
		t.Errorf("input() error = %v, want a form error on ssh.port", err)
	}
	if got := f.Typed["ssh_port"]; got != "twenty-two" {
		t.Errorf("Typed[ssh_port] = %q, want it as typed", got)
	}
	if f.In.TestCommand == nil || f.In.SSH == nil {
		t.Error("readTargetForm leaves the commands or SSH nil; want them set for display")
	}
}
