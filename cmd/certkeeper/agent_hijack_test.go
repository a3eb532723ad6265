package main

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// agentManager is a manager process with the built-in CA, an admin token
// for its API and an agent endpoint.
type agentManager struct {
	c          *ck
	s          *served
	adminToken string
}

func newAgentManager(t *testing.T) *agentManager {
	t.Helper()
	c := newCK(t)
	c.ok("ca", "init", "--name", "corp")
	m := &agentManager{c: c, adminToken: tokenFile(t, c, "alice", "admin")}
	m.s = serve(t, c)
	if m.s.Agent == "" {
		t.Fatalf("serve printed no agent endpoint; log:\n%s", m.s.logs.String())
	}
	return m
}

// admin runs a lifecycle command over the API as the admin.
func (m *agentManager) admin(t *testing.T, args ...string) string {
	t.Helper()
	return m.c.ok(append([]string{"--server", m.s.URL, "--token-file", m.adminToken}, args...)...)
}

// enroll makes a token for name and enrolls an agent with it into a new
// directory, with the extra enroll flags; it returns the directory.
func (m *agentManager) enroll(t *testing.T, name string, extra ...string) string {
	t.Helper()
	out := m.admin(t, "agent", "token", "create", "--name", name, "--endpoint", m.s.Agent)
	cmd := regexp.MustCompile(`(?m)^  (certkeeper agent enroll .*)$`).FindStringSubmatch(out)
	if cmd == nil {
		t.Fatalf("agent token create printed no enroll command:\n%s", out)
	}
	dir := filepath.Join(t.TempDir(), "agent")
	out = m.c.ok(append(append(strings.Fields(cmd[1])[1:], "--dir", dir), extra...)...)
	if !strings.Contains(out, "manager key pinned: sha256:") {
		t.Errorf("agent enroll printed no manager key pin:\n%s", out)
	}
	return dir
}

// deployToAgent adds an agent target writing into site with the target
// flags given, issues a certificate and queues its deployment.
func (m *agentManager) deployToAgent(t *testing.T, agentName, site string, flags ...string) deployment {
	t.Helper()
	target := agentName + "-site"
	m.admin(t, append([]string{"target", "add", "--name", target, "--preset", "nginx", "--method", "agent",
		"--agent", agentName, "--dir", site}, flags...)...)
	cert := issue(t, m.c, "--name", "www."+agentName+".test")
	var deps []deployment
	if err := json.Unmarshal([]byte(m.admin(t, "deploy", "--json", cert.id, target)), &deps); err != nil ||
		len(deps) != 1 || deps[0].State != "install_requested" {
		t.Fatalf("deploy to the agent target: %v, %+v, want install_requested", err, deps)
	}
	return deps[0]
}

// deployment returns deployment id as the API shows it.
func (m *agentManager) deployment(t *testing.T, id int64) deployment {
	t.Helper()
	var d deployment
	if err := json.Unmarshal([]byte(m.admin(t, "deployment", "show", "--json", itoa(id))), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// waitState waits up to 30 seconds for deployment id to reach want.
func (m *agentManager) waitState(t *testing.T, id int64, want string) deployment {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := m.deployment(t, id)
		if d.State == want {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %d stayed %s, want %s: %+v", id, d.State, want, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitLog waits up to 15 seconds for the manager's log to match re.
func (m *agentManager) waitLog(t *testing.T, re string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !regexp.MustCompile(re).MatchString(m.s.logs.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("the manager never logged %s; log:\n%s", re, m.s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// api calls the manager's REST API as the admin.
func (m *agentManager) api(t *testing.T, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, m.s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(readFile(t, m.adminToken)))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := m.c.httpsClient(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatal(err)
		}
	}
}

// revokeAgent revokes, through the API, the client certificate of the
// agent in dir.
func (m *agentManager) revokeAgent(t *testing.T, dir string) {
	t.Helper()
	sum := leafSHA256(t, filepath.Join(dir, "agent.crt"))
	var list struct {
		Items []struct {
			ID     int64  `json:"id"`
			SHA256 string `json:"sha256"`
		} `json:"items"`
	}
	m.api(t, "GET", "/api/v1/certificates?label=certkeeper-agent&limit=500", nil, &list)
	for _, c := range list.Items {
		if c.SHA256 == sum {
			m.api(t, "POST", "/api/v1/certificates/"+itoa(c.ID)+"/revoke", map[string]string{"reason": "keyCompromise"}, nil)
			return
		}
	}
	t.Fatalf("the agent's certificate %s is not in the inventory: %+v", sum, list.Items)
}

func leafSHA256(t *testing.T, name string) string {
	t.Helper()
	blk, _ := pem.Decode(readFile(t, name))
	if blk == nil {
		t.Fatalf("%s holds no PEM", name)
	}
	s := sha256.Sum256(blk.Bytes)
	return hex.EncodeToString(s[:])
}

// postRenewal asks the endpoint for a new certificate with the agent's
// certificate and key in dir, as a thief holding them would, and returns
// the status and the problem document's refusal.
func postRenewal(t *testing.T, endpoint, dir string) (int, string) {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, "agent.crt"), filepath.Join(dir, "agent.key"))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader,
		&x509.CertificateRequest{Subject: pkix.Name{CommonName: pair.Leaf.Subject.CommonName}}, pair.PrivateKey.(crypto.Signer))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(readFile(t, filepath.Join(dir, "ca.crt")))
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: roots, Certificates: []tls.Certificate{pair}}}}
	defer hc.CloseIdleConnections()
	body, _ := json.Marshal(map[string]string{"csr": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))})
	resp, err := hc.Post(endpoint+"/agent/v1/renew", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct {
		Refusal string `json:"refusal"`
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode == http.StatusForbidden && ct != "application/problem+json" {
		t.Errorf("refusal Content-Type %q, want application/problem+json", ct)
	}
	_ = json.NewDecoder(resp.Body).Decode(&p)
	return resp.StatusCode, p.Refusal
}

func hasStep(d deployment, action string) bool {
	for _, s := range d.Steps {
		if s.Action == action {
			return true
		}
	}
	return false
}

// TestRevokedAndSupersededAgentCertificatesRefused: a superseded agent
// certificate and one revoked through the API are refused by the
// manager, for jobs and for renewal; the deployment waiting for the agent
// does not hand out its key; an agent enrolled again gets it.
func TestRevokedAndSupersededAgentCertificatesRefused(t *testing.T) {
	m := newAgentManager(t)
	first := m.enroll(t, "web1")
	second := m.enroll(t, "web1")
	r := m.c.run("agent", "run", "--dir", first, "--once")
	if r.code == 0 || !strings.Contains(r.stderr, "no longer agent \"web1\"'s current one") || !strings.Contains(r.stderr, "certkeeper agent enroll") {
		t.Errorf("superseded certificate's round: exit %d, stderr %s; want refused as not current, with how to enroll again", r.code, r.stderr)
	}
	if code, refusal := postRenewal(t, m.s.Agent, first); code != http.StatusForbidden || refusal != "not_current" {
		t.Errorf("renewal with the superseded certificate: %d %q, want 403 not_current", code, refusal)
	}

	site := filepath.Join(t.TempDir(), "tls")
	d := m.deployToAgent(t, "web1", site, "--test-command", "", "--reload-command", "")
	m.revokeAgent(t, second)
	r = m.c.run("agent", "run", "--dir", second, "--once")
	if r.code == 0 || !strings.Contains(r.stderr, "revoked") || !strings.Contains(r.stderr, "certkeeper agent enroll") {
		t.Errorf("revoked certificate's round: exit %d, stderr %s; want refused as revoked, with how to enroll again", r.code, r.stderr)
	}
	if code, refusal := postRenewal(t, m.s.Agent, second); code != http.StatusForbidden || refusal != "revoked" {
		t.Errorf("renewal with the revoked certificate: %d %q, want 403 revoked", code, refusal)
	}
	if got := m.deployment(t, d.ID); got.State != "install_requested" || hasStep(got, "agent_fetched") {
		t.Errorf("deployment after the revoked agent's round: %+v, want still waiting, never fetched", got)
	}
	if _, err := os.Stat(filepath.Join(site, "privkey.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the revoked agent installed the key: %v", err)
	}
	m.waitLog(t, `msg="agent refused" reason=revoked agent=web1`)
	if n := strings.Count(m.s.logs.String(), "reason=revoked"); n != 1 {
		t.Errorf("%d log lines for the revoked certificate's two refusals, want 1", n)
	}
	if out := m.admin(t, "audit", "--json"); !strings.Contains(out, "agent.refused") {
		t.Errorf("no agent.refused in the audit trail:\n%s", out)
	}

	third := m.enroll(t, "web1")
	m.c.ok("agent", "run", "--dir", third, "--once")
	m.waitState(t, d.ID, "installed")
}

// TestAgentRefusesAManagerWithANewKey: once the agent endpoint serves a
// certificate with another key, even from the same CA and for the same
// names, the agent refuses to talk to it, naming both pins, until the
// operator accepts the new key.
func TestAgentRefusesAManagerWithANewKey(t *testing.T) {
	m := newAgentManager(t)
	dir := m.enroll(t, "web1", "--allow-preset", "nginx")
	var st struct {
		ManagerKeyPin string `json:"manager_key_pin"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "agent.json")), &st); err != nil || !strings.HasPrefix(st.ManagerKeyPin, "sha256:") {
		t.Fatalf("agent.json after enrollment: %v %+v, want a manager key pin", err, st)
	}
	m.waitLog(t, `msg="agent endpoint certificates in use" source=default .*key_pin=`+st.ManagerKeyPin)
	m.c.ok("agent", "run", "--dir", dir, "--once")

	// Certificates for the same names from the same built-in CA, new key.
	pemFile := filepath.Join(t.TempDir(), "endpoint.pem")
	m.c.ok("ca", "issue", "--name", "localhost", "--ip", "127.0.0.1", "--to", "combined-pem", "--out", pemFile)
	var certs, key []byte
	var last *pem.Block
	for rest := readFile(t, pemFile); ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			certs, last = append(certs, pem.EncodeToMemory(blk)...), blk
		} else {
			key = pem.EncodeToMemory(blk)
		}
	}
	leaf, err := x509.ParseCertificate(func() []byte { b, _ := pem.Decode(certs); return b.Bytes }())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	newPin := "sha256:" + hex.EncodeToString(sum[:])
	certDir := filepath.Join(m.c.dataDir, "certs", "agent")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"server.crt": certs, "server.key": key, "ca.crt": pem.EncodeToMemory(last)} {
		if err := os.WriteFile(filepath.Join(certDir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m.waitLog(t, `msg="agent endpoint certificates in use" source=custom .*key_pin=`+newPin)

	r := m.c.run("agent", "run", "--dir", dir, "--once")
	want := "presented the key " + newPin + ", not the pinned " + st.ManagerKeyPin
	if r.code == 0 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "accept-manager-key --pin "+newPin) {
		t.Fatalf("round against the new key: exit %d, stderr %s; want %q and how to accept it", r.code, r.stderr, want)
	}
	if out := m.c.ok("agent", "accept-manager-key", "--pin", newPin, "--dir", dir); !strings.Contains(out, newPin) {
		t.Errorf("accept-manager-key printed %q", out)
	}
	m.c.ok("agent", "run", "--dir", dir, "--once")
}

// TestAgentRefusesACommandItsConfigurationDoesNotAllow: a job whose
// reload command is not in the agent's allow list is reported failed
// with that reason, and nothing ran on the host.
func TestAgentRefusesACommandItsConfigurationDoesNotAllow(t *testing.T) {
	m := newAgentManager(t)
	out := m.admin(t, "agent", "token", "create", "--name", "web2", "--endpoint", m.s.Agent)
	enroll := regexp.MustCompile(`(?m)^  (certkeeper agent enroll .*)$`).FindStringSubmatch(out)
	if enroll == nil {
		t.Fatalf("agent token create printed no enroll command:\n%s", out)
	}
	if line := m.c.fails(append(strings.Fields(enroll[1])[1:], "--dir", t.TempDir(), "--allow-preset", "ngnix")...); !strings.Contains(line, `unknown preset "ngnix"`) {
		t.Errorf("enroll with a misspelt preset: %s, want refused", line)
	}
	dir := m.enroll(t, "web1", "--allow-preset", "nginx", "--allow-command", "true")
	marker := filepath.Join(t.TempDir(), "pwned")
	site := filepath.Join(t.TempDir(), "tls")
	d := m.deployToAgent(t, "web1", site, "--test-command", "true", "--reload-command", "touch "+marker)
	if r := m.c.run("agent", "run", "--dir", dir, "--once"); r.code == 0 {
		t.Errorf("agent round with a refused job exited 0; stderr %s", r.stderr)
	}
	got := m.waitState(t, d.ID, "failed")
	want := `the reload command "touch ` + marker + `" is not allowed by the agent's configuration`
	found := false
	for _, s := range got.Steps {
		found = found || (s.Action == "install_failed" && strings.Contains(s.Detail, want))
	}
	if !found {
		t.Errorf("deployment steps %+v, want install_failed saying %q", got.Steps, want)
	}
	for _, p := range []string{marker, site} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists (%v): the refused job ran", p, err)
		}
	}
}
