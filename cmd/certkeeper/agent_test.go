package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAgentAgainstManager runs an agent against a manager, both started
// here: token, enrollment, an agent target, a deployment queued for the
// agent, one agent round, and the files on disk (served by a real nginx
// and checked by the agent when nginx is installed).
func TestAgentAgainstManager(t *testing.T) {
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	adminToken := tokenFile(t, c, "alice", "admin")
	s := serve(t, c)
	if s.Agent == "" {
		t.Fatalf("serve printed no agent endpoint; log:\n%s", s.logs.String())
	}
	admin := func(args ...string) string {
		t.Helper()
		return c.ok(append([]string{"--server", s.URL, "--token-file", adminToken}, args...)...)
	}
	endpoint := s.Agent

	out := admin("agent", "token", "create", "--name", "web1", "--endpoint", endpoint)
	m := regexp.MustCompile(`(?m)^  (certkeeper agent enroll .*)$`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "cka_") || !strings.Contains(out, "CA pin: sha256:") {
		t.Fatalf("agent token create printed no token, pin or enroll command:\n%s", out)
	}
	// The printed command enrolls, with a directory added.
	dir := filepath.Join(t.TempDir(), "agent")
	enroll := append(strings.Fields(m[1])[1:], "--dir", dir)
	if out := c.ok(enroll...); !strings.Contains(out, "agent web1 enrolled") {
		t.Errorf("agent enroll printed:\n%s", out)
	}
	if fi, err := os.Stat(filepath.Join(dir, "agent.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("agent.key: %v, want mode 0600", err)
	}
	again := append(strings.Fields(m[1])[1:], "--dir", t.TempDir())
	if line := c.fails(again...); !strings.Contains(line, "403") {
		t.Errorf("enrolling again with the used token: %s, want 403", line)
	}
	if out := admin("agent", "list"); !strings.Contains(out, "web1") || !strings.Contains(out, "enabled") {
		t.Errorf("agent list:\n%s", out)
	}
	if !strings.Contains(s.logs.String(), "agent enrolled") {
		t.Errorf("the manager did not log the enrollment; log:\n%s", s.logs.String())
	}

	const name = "www.agent.test"
	target := []string{"target", "add", "--name", "web1-nginx", "--preset", "nginx", "--method", "agent", "--agent", "web1"}
	var site, addr string
	want := "installed"
	if _, err := exec.LookPath("nginx"); err == nil {
		n, tlsDir := nginxSite(t, name)
		addr = n.Servers[0].Listen
		target = append(target, "--dir", tlsDir, "--test-command", n.TestCommand(), "--reload-command", n.ReloadCommand(),
			"--check", addr, "--sni", name)
		site, want = tlsDir, "confirmed"
		// The agent runs only the commands its configuration allows.
		allowCommands(t, dir, n.TestCommand(), n.ReloadCommand())
	} else {
		t.Log("nginx not installed: the deployment is installed without a check")
		site = filepath.Join(t.TempDir(), "tls")
		target = append(target, "--dir", site, "--test-command", "", "--reload-command", "")
	}
	admin(target...)
	cert := issue(t, c, "--name", name)
	var deps []deployment
	if err := json.Unmarshal([]byte(admin("deploy", "--json", cert.id, "web1-nginx")), &deps); err != nil ||
		len(deps) != 1 || deps[0].State != "install_requested" {
		t.Fatalf("deploy to the agent target: %v, %+v, want install_requested", err, deps)
	}

	if out := c.run("agent", "run", "--dir", dir, "--once"); out.code != 0 || !strings.Contains(out.stderr, "job done") {
		t.Fatalf("agent run --once: exit %d\nstdout: %s\nstderr: %s", out.code, out.stdout, out.stderr)
	}
	var got deployment
	if err := json.Unmarshal([]byte(admin("deployment", "show", "--json", itoa(deps[0].ID))), &got); err != nil || got.State != want {
		t.Fatalf("deployment after the agent's round: %v, state %q, want %s\n%+v", err, got.State, want, got)
	}
	if want == "confirmed" && (got.LastCheck == nil || !got.LastCheck.Passed || got.LastCheck.ServedSHA256 != cert.sha256) {
		t.Errorf("last check %+v, want passed serving %s", got.LastCheck, cert.sha256)
	}
	if fi, err := os.Stat(filepath.Join(site, "privkey.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("privkey.pem: %v, want mode 0600", err)
	}
	if blk := readFile(t, filepath.Join(site, "fullchain.pem")); !strings.Contains(string(blk), "BEGIN CERTIFICATE") {
		t.Error("fullchain.pem holds no certificate")
	}
	if addr != "" {
		waitServed(t, addr, name, cert.sha256)
	}

	admin("agent", "disable", "web1")
	if r := c.run("agent", "run", "--dir", dir, "--once"); r.code == 0 || !strings.Contains(r.stderr, "disabled") {
		t.Errorf("disabled agent's round: exit %d, stderr %s", r.code, r.stderr)
	}
	admin("agent", "enable", "web1")
	c.ok("agent", "run", "--dir", dir, "--once")
}

// allowCommands adds commands to the allow list in the agent's
// configuration file, as its operator would.
func allowCommands(t *testing.T, dir string, commands ...string) {
	t.Helper()
	name := filepath.Join(dir, "agent.json")
	var st map[string]any
	if err := json.Unmarshal(readFile(t, name), &st); err != nil {
		t.Fatal(err)
	}
	list, _ := st["allowed_commands"].([]any)
	for _, c := range commands {
		list = append(list, c)
	}
	st["allowed_commands"] = list
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
