package agent

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func TestEnrollWritesTheAgentFiles(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tok := f.token(t, "web1", 0)
	if !strings.HasPrefix(tok.Token, TokenPrefix) || len(tok.Token) != len(TokenPrefix)+43 {
		t.Errorf("token %q: want cka_ and 43 base64url characters", tok.Token)
	}
	if want := SPKIPin(f.root); tok.CAPin != want {
		t.Errorf("CA pin = %s, want the default CA root's %s", tok.CAPin, want)
	}
	if got, want := tok.ExpiresAt, f.clock.Now().Add(DefaultTokenTTL); !got.Equal(want) {
		t.Errorf("expires %s, want %s", got, want)
	}
	dir := filepath.Join(t.TempDir(), "agent")
	st, err := Enroll(t.Context(), EnrollConfig{Server: f.url, Token: tok.Token, CAPin: tok.CAPin, Dir: dir})
	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	if st.Name != "web1" || st.Server != f.url {
		t.Errorf("state = %+v, want web1 at %s", st, f.url)
	}
	for name, mode := range map[string]fs.FileMode{KeyFile: 0o600, CertFile: 0o644, CAFile: 0o644, StateFile: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	leaf := pair.Leaf
	if leaf.Subject.CommonName != "web1" || len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("agent certificate: CN %q, EKU %v; want web1, clientAuth", leaf.Subject.CommonName, leaf.ExtKeyUsage)
	}
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life < 360*24*time.Hour || life > 370*24*time.Hour {
		t.Errorf("agent certificate lives %v, want about a year", life)
	}
	caPEM, _ := os.ReadFile(filepath.Join(dir, CAFile))
	if cas, err := parseCerts(caPEM); err != nil || !cas[0].Equal(f.root) {
		t.Errorf("ca.crt is not the default CA root (err %v)", err)
	}
	a := f.agent(t, "web1")
	if a.CertificateSHA256 != inventory.SHA256Hex(leaf.Raw) || a.RemoteAddr != "127.0.0.1" {
		t.Errorf("stored agent = %+v, want the certificate %s from 127.0.0.1", a, inventory.SHA256Hex(leaf.Raw))
	}
	if got := f.log.Lines(`msg="agent enrolled" name=web1 remote=127.0.0.1`); len(got) != 1 {
		t.Errorf("enrollment log lines = %q\nlog:\n%s", got, f.log)
	}
	checkAudit(t, f, tok.Token, "agent.token_create", "agent.enroll")
}

// checkAudit checks that the audit trail has the actions, in order, and
// never the token.
func checkAudit(t *testing.T, f *fixture, token string, actions ...string) {
	t.Helper()
	events, _, err := f.st.ListAudit(t.Context(), time.Time{}, inventory.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		if strings.HasPrefix(e.Action, "agent.") {
			got = append(got, e.Action)
		}
		if token != "" && (strings.Contains(e.Summary+e.Object, token) || strings.Contains(e.Summary, tokenHash(token))) {
			t.Errorf("audit event %s holds the token: %q", e.Action, e.Summary)
		}
	}
	if strings.Join(got, ",") != strings.Join(actions, ",") {
		t.Errorf("agent audit actions = %v, want %v", got, actions)
	}
}

func TestEnrollRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	used := f.token(t, "web1", 0)
	if _, err := Enroll(t.Context(), EnrollConfig{Server: f.url, Token: used.Token, CAPin: used.CAPin, Dir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	expired := f.token(t, "web2", time.Hour)
	other := f.token(t, "web3", 0)
	f.clock.Advance(2 * time.Hour)
	tests := []struct {
		name string
		c    EnrollConfig
		want string
	}{
		{"token used before", EnrollConfig{Token: used.Token, CAPin: used.CAPin}, "HTTP 403"},
		{"expired token", EnrollConfig{Token: expired.Token, CAPin: expired.CAPin}, "HTTP 403"},
		{"unknown token", EnrollConfig{Token: TokenPrefix + "nothing", CAPin: used.CAPin}, "HTTP 403"},
		{"token of another agent", EnrollConfig{Token: other.Token, CAPin: other.CAPin, Name: "web1"}, "HTTP 403"},
		{"wrong pin", EnrollConfig{Token: other.Token, CAPin: "sha256:" + strings.Repeat("ab", 32)}, "pinned CA key"},
		{"malformed pin", EnrollConfig{Token: other.Token, CAPin: "abc"}, "want sha256:"},
		{"plain http", EnrollConfig{Token: other.Token, CAPin: other.CAPin, Server: "http://127.0.0.1:1"}, "want https://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "agent")
			tt.c.Dir = dir
			if tt.c.Server == "" {
				tt.c.Server = f.url
			}
			_, err := Enroll(t.Context(), tt.c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Enroll = %v, want an error with %q", err, tt.want)
			}
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("refused enrollment left %s (stat: %v)", dir, err)
			}
		})
	}
	// The token of another agent was not used up by the refusal.
	if _, err := Enroll(t.Context(), EnrollConfig{Server: f.url, Token: other.Token, CAPin: other.CAPin, Dir: t.TempDir()}); err != nil {
		t.Errorf("enroll web3 after the refusals: %v", err)
	}
	if got := f.log.Lines("agent enrollment refused"); len(got) != 4 {
		t.Errorf("refusals logged %d times, want 4:\n%s", len(got), strings.Join(got, "\n"))
	}
	if strings.Contains(f.log.String(), used.Token) || strings.Contains(f.log.String(), expired.Token) {
		t.Error("the log holds a token")
	}
}

func TestCreateTokenRefusesBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, tt := range []struct {
		name, agent string
		ttl         time.Duration
		field       string
	}{
		{"empty name", "", 0, "name"},
		{"name with a space", "web 1", 0, "name"},
		{"name with a slash", "../x", 0, "name"},
		{"too long", "a" + strings.Repeat("b", 63), 0, "name"},
		{"negative lifetime", "web1", -time.Second, "ttl_seconds"},
		{"beyond 30 days", "web1", MaxTokenTTL + time.Second, "ttl_seconds"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.reg.CreateToken(t.Context(), "user:admin", tt.agent, tt.ttl)
			var fe *inventory.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("CreateToken = %v, want a field error on %s", err, tt.field)
			}
		})
	}
	if tok, err := f.reg.CreateToken(t.Context(), "user:admin", "web1", MaxTokenTTL); err != nil ||
		!tok.ExpiresAt.Equal(f.clock.Now().Add(MaxTokenTTL)) {
		t.Errorf("30-day token: %v, %+v", err, tok)
	}
}

// jobsGet asks for the jobs with client certificate cert (none when nil)
// trusting roots, and returns the status and body.
func jobsGet(t *testing.T, url string, roots *x509.CertPool, cert *tls.Certificate) (int, string) {
	t.Helper()
	tc := &tls.Config{RootCAs: roots}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(url + "/agent/v1/jobs")
	if err != nil {
		t.Fatalf("GET jobs: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestJobsNeedAnEnrolledEnabledAgent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	dir, a := f.enroll(t, "web1")
	roots := x509.NewCertPool()
	roots.AddCert(f.root)
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if code, body := jobsGet(t, f.url, roots, &pair); code != 200 || !strings.Contains(body, `"jobs":[]`) {
		t.Errorf("enrolled agent: %d %s", code, body)
	}
	code, body := jobsGet(t, f.url, roots, nil)
	if code != http.StatusUnauthorized || strings.Count(strings.TrimSpace(body), "\n") != 0 || !strings.Contains(body, `"error"`) {
		t.Errorf("no client certificate: %d %q, want 401 with a one-line JSON error", code, body)
	}
	// A client certificate of the built-in CA that no agent enrolled.
	is, err := f.auth.Issue(t.Context(), caRequestClient("stranger"))
	if err != nil {
		t.Fatal(err)
	}
	stranger := tls.Certificate{Certificate: [][]byte{is.Certificate.Raw}, PrivateKey: is.Key}
	if code, body := jobsGet(t, f.url, roots, &stranger); code != http.StatusForbidden {
		t.Errorf("certificate of no agent: %d %s, want 403", code, body)
	}

	if _, err := f.reg.SetDisabled(t.Context(), "user:admin", a.ID, true); err != nil {
		t.Fatal(err)
	}
	err = f.runOnce(dir)
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusForbidden || !strings.Contains(he.Message, "disabled") {
		t.Errorf("disabled agent's round = %v, want 403 disabled", err)
	}
	if _, err := f.reg.SetDisabled(t.Context(), "user:admin", a.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := f.runOnce(dir); err != nil {
		t.Errorf("enabled again: %v", err)
	}
	if got := f.agent(t, "web1"); got.LastSeenAt.IsZero() || got.Disabled {
		t.Errorf("agent after its rounds = %+v, want seen and enabled", got)
	}
	checkAudit(t, f, "", "agent.token_create", "agent.enroll", "agent.refused", "agent.disable", "agent.refused", "agent.enable")
}

func TestReEnrollReplacesTheCertificate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	oldDir, before := f.enroll(t, "web1")
	newDir, after := f.enroll(t, "web1")
	if before.ID != after.ID || before.CertificateSHA256 == after.CertificateSHA256 {
		t.Errorf("re-enrolled agent %+v, was %+v: want the same agent with a new certificate", after, before)
	}
	if err := f.runOnce(newDir); err != nil {
		t.Errorf("new certificate: %v", err)
	}
	var he *HTTPError
	if err := f.runOnce(oldDir); !errors.As(err, &he) || he.Status != http.StatusForbidden || he.Refusal != RefusedNotCurrent {
		t.Errorf("old certificate after re-enrollment: %v, want 403", err)
	}
}

func TestJobsFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	dir, a := f.enroll(t, "web1")
	target := filepath.Join(t.TempDir(), "nginx")
	secret := "-----BEGIN PRIVATE KEY-----\nsecret-material\n-----END PRIVATE KEY-----\n"
	f.jobs.set(a.ID, engine.AgentJob{DeploymentID: 7, Target: "web1-nginx", Job: engine.Job{
		Plan: engine.Plan{Directory: target, Label: "web1-nginx", Files: []engine.PlanFile{
			{Path: "cert.pem", Data: []byte("certificate\n"), Mode: 0o644},
			{Path: "key.pem", Data: []byte(secret), Mode: 0o600, Secret: true},
		}},
		ExpectedSHA256: strings.Repeat("0", 64),
	}})
	if err := f.runOnce(dir); err != nil {
		t.Fatalf("run once: %v\nlog:\n%s", err, f.log)
	}
	o := f.jobs.outcome(7)
	if o == nil || !o.Installed || o.Error != "" {
		t.Fatalf("outcome reported = %+v, want installed", o)
	}
	for name, mode := range map[string]fs.FileMode{"cert.pem": 0o644, "key.pem": 0o600} {
		fi, err := os.Stat(filepath.Join(target, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, mode %v; want mode %v", name, err, fi.Mode().Perm(), mode)
		}
	}
	if got := f.log.Lines(`msg="job done" deployment=7 target=web1-nginx`); len(got) != 1 {
		t.Errorf("job log lines = %q\nlog:\n%s", got, f.log)
	}
	if got := f.log.Lines(`msg="agent reported" agent=web1 deployment=7 installed=true state=installed`); len(got) != 1 {
		t.Errorf("endpoint log lines = %q\nlog:\n%s", got, f.log)
	}
	if strings.Contains(f.log.String(), "secret-material") {
		t.Error("the log holds file contents")
	}
}

func TestResultOfAnotherAgentsDeploymentRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	dir, _ := f.enroll(t, "web1")
	pair, _ := tls.LoadX509KeyPair(filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile))
	roots := x509.NewCertPool()
	roots.AddCert(f.root)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}}}}
	defer hc.CloseIdleConnections()
	for _, tt := range []struct {
		name, path, body string
		want             int
	}{
		{"not its deployment", "/agent/v1/jobs/9/result", `{"installed":true}`, http.StatusNotFound},
		{"bad ID", "/agent/v1/jobs/x/result", `{}`, http.StatusBadRequest},
		{"malformed body", "/agent/v1/jobs/9/result", `{`, http.StatusBadRequest},
		{"body too large", "/agent/v1/jobs/9/result", `{"error":"` + strings.Repeat("x", maxResultBody) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := hc.Post(f.url+tt.path, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e errorBody
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != tt.want || e.Error == "" {
				t.Errorf("status %d, error %q (%v); want %d with a message", resp.StatusCode, e.Error, err, tt.want)
			}
		})
	}
}

func TestEnrollRefusesBadRequestsWithoutUsingTheToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tok := f.token(t, "web1", 0)
	roots := x509.NewCertPool()
	roots.AddCert(f.root)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer hc.CloseIdleConnections()
	withNames := csrPEM(t, &x509.CertificateRequest{DNSNames: []string{"evil.example"}}, ecKey(t))
	weak := csrPEM(t, &x509.CertificateRequest{}, rsaKey(t, 1024))
	for _, tt := range []struct {
		name, body string
		want       int
	}{
		{"malformed JSON", `{"token":`, http.StatusBadRequest},
		{"no CSR", `{"token":"` + tok.Token + `"}`, http.StatusBadRequest},
		{"CSR with names", enrollBody(t, tok.Token, withNames), http.StatusBadRequest},
		{"weak key", enrollBody(t, tok.Token, weak), http.StatusBadRequest},
		{"bad name", `{"token":"` + tok.Token + `","name":"a b","csr":""}`, http.StatusBadRequest},
		{"body too large", `{"token":"` + strings.Repeat("x", maxEnrollBody) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := hc.Post(f.url+"/agent/v1/enroll", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e errorBody
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != tt.want || e.Error == "" {
				t.Errorf("status %d, error %q (%v); want %d with a message", resp.StatusCode, e.Error, err, tt.want)
			}
		})
	}
	if _, err := Enroll(t.Context(), EnrollConfig{Server: f.url, Token: tok.Token, CAPin: tok.CAPin, Dir: t.TempDir()}); err != nil {
		t.Errorf("the token no longer works after refused requests: %v", err)
	}
}

func enrollBody(t *testing.T, token, csr string) string {
	t.Helper()
	b, err := json.Marshal(EnrollRequest{Token: token, CSR: csr})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
