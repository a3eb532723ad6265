package api_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/access"
	"github.com/certkeeper/certkeeper/internal/api"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/catalogue"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/stack/stacktest"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
	"github.com/certkeeper/certkeeper/internal/users"
)

// env is a running API over a real store, with an admin and a user, each
// with a token, and a record of every response body.
type env struct {
	t         *testing.T
	stack     *stack.Stack
	st        inventory.Store
	sealer    *keys.Sealer
	auth      *ca.Authority
	users     *users.Service
	catalogue *catalogue.Service
	api       *api.API
	srv       *httptest.Server
	rec       *recorder

	adminToken, userToken string
	admin, user           *client.Client
}

// opener makes a fresh, empty store for one test.
type opener func(t *testing.T) inventory.Store

func openSQLite(t *testing.T) inventory.Store { return stacktest.OpenSQLite(t) }

func openPostgres(t *testing.T) inventory.Store {
	st, err := store.Open(context.Background(), testenv.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newEnv serves the API of a stack over a store from open. The allow-list
// is a fresh file unless a configure function sets cfg.Access; the
// configure functions may change the rest of cfg as well.
func newEnv(t *testing.T, open opener, configure ...func(st inventory.Store, cfg *stack.Config)) *env {
	t.Helper()
	st := open(t)
	cfg := stack.Config{Log: testLogger(t)}
	for _, f := range configure {
		f(st, &cfg)
	}
	if cfg.Access == nil {
		allow, err := access.Open(filepath.Join(t.TempDir(), "allowlist"), st, testLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Access = allow
	}
	s := stacktest.New(t, st, cfg)
	e := &env{t: t, stack: s, st: st, sealer: s.Sealer, auth: s.Authority, users: s.Users, catalogue: s.Catalogue,
		api: s.API, rec: &recorder{}}
	e.srv = httptest.NewServer(e.api.Handler())
	t.Cleanup(e.srv.Close)
	e.adminToken, e.admin = e.newUser("ada", inventory.RoleAdmin)
	e.userToken, e.user = e.newUser("bob", inventory.RoleUser)
	return e
}

// newUser creates a user with a token and returns a client acting as it.
func (e *env) newUser(name string, role inventory.Role) (string, *client.Client) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.users.Create(ctx, "test", name, role, "correct horse battery "+name); err != nil {
		e.t.Fatal(err)
	}
	secret, _, err := e.users.CreateToken(ctx, "test", name, "test", 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return secret, e.client(secret)
}

func (e *env) client(token string) *client.Client {
	c, err := client.New(e.srv.URL, token, client.WithHTTPClient(&http.Client{Transport: e.rec}))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// raw sends a request as is and returns the response with its body.
func (e *env) raw(method, path, token, ctype string, body []byte, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.rec.RoundTrip(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// recorder is a RoundTripper that keeps a copy of every response body.
type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, b)
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

// contains reports whether any recorded body contains s.
func (r *recorder) contains(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.bodies {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// problemOf returns the problem of a client error, failing the test when
// err is not one with the wanted status.
func wantProblem(t *testing.T, err error, status int) client.Problem {
	t.Helper()
	var ce *client.Error
	if !errorsAs(err, &ce) {
		t.Fatalf("error = %v, want a %d problem", err, status)
	}
	if ce.Problem.Status != status {
		t.Fatalf("status = %d (%s), want %d", ce.Problem.Status, ce.Problem.Detail, status)
	}
	if strings.Contains(ce.Error(), "\n") {
		t.Errorf("Error() has several lines: %q", ce.Error())
	}
	return ce.Problem
}

// selfSigned returns a self-signed leaf certificate and its key.
func selfSigned(t *testing.T, cn string, notAfter time.Time) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// certPEM returns c in PEM, followed by key in PKCS#8 PEM when not nil.
func certPEM(t *testing.T, c *x509.Certificate, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	if key != nil {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})...)
	}
	return out
}
