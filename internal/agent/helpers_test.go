package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// fakeJobs hands out fixed jobs and records the outcomes.
type fakeJobs struct {
	mu       sync.Mutex
	jobs     map[int64][]engine.AgentJob // by agent ID
	outcomes map[int64]*engine.Outcome   // by deployment ID
}

func (f *fakeJobs) AgentJobs(_ context.Context, agentID int64) ([]engine.AgentJob, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.jobs[agentID], nil
}

func (f *fakeJobs) AgentResult(_ context.Context, agentID, deploymentID int64, o *engine.Outcome) (*inventory.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	found := false
	for _, j := range f.jobs[agentID] {
		found = found || j.DeploymentID == deploymentID
	}
	if !found {
		return nil, inventory.ErrNotFound
	}
	f.outcomes[deploymentID] = o
	state := inventory.DeployInstalled
	if !o.Installed {
		state = inventory.DeployFailed
	}
	return &inventory.Deployment{ID: deploymentID, State: state}, nil
}

func (f *fakeJobs) set(agentID int64, jobs ...engine.AgentJob) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobs[agentID] = jobs
}

func (f *fakeJobs) outcome(id int64) *engine.Outcome {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.outcomes[id]
}

// fixture is a real SQLite inventory with the built-in default CA, a
// registry over it and a running endpoint on a loopback port.
type fixture struct {
	st      inventory.Store
	sealer  *keys.Sealer
	auth    *ca.Authority
	reg     *Registry
	ep      *Endpoint
	jobs    *fakeJobs
	clock   *testenv.Clock
	log     *testenv.Buffer
	certDir string
	url     string
	root    *x509.Certificate
	// stop ends the running endpoint, if any.
	stop func()
}

// newFixture starts an endpoint; prepare, when not nil, runs before it
// starts (to drop custom certificates into certDir).
func newFixture(t *testing.T, prepare func(f *fixture)) *fixture {
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
	clk := testenv.NewClock(time.Now().UTC().Truncate(time.Second))
	auth := ca.New(st, sealer, ca.Config{Now: clk.Now, BatchWindow: -1})
	c, _, err := auth.EnsureDefault(t.Context())
	if err != nil {
		t.Fatalf("EnsureDefault: %v", err)
	}
	chain, err := auth.Chain(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, sealer: sealer, auth: auth, clock: clk, log: &testenv.Buffer{}, certDir: t.TempDir(),
		jobs: &fakeJobs{jobs: map[int64][]engine.AgentJob{}, outcomes: map[int64]*engine.Outcome{}},
		root: chain[len(chain)-1]}
	f.reg = New(st, auth, Config{CertDir: f.certDir, Now: clk.Now})
	if prepare != nil {
		prepare(f)
	}
	f.start(t)
	return f
}

func (f *fixture) logger() *slog.Logger { return slog.New(slog.NewTextHandler(f.log, nil)) }

func (f *fixture) start(t *testing.T) {
	t.Helper()
	if f.stop != nil {
		f.stop() // a restart: the old endpoint must not renew behind the new one
	}
	ep, err := NewEndpoint(t.Context(), f.reg, f.jobs, f.sealer,
		EndpointConfig{Addr: "127.0.0.1:0", Poll: 50 * time.Millisecond}, f.logger())
	if err != nil {
		t.Fatalf("NewEndpoint: %v", err)
	}
	addr, err := ep.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ep.Run(ctx) }()
	var once sync.Once
	f.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("endpoint Run: %v", err)
			}
		})
	}
	t.Cleanup(f.stop)
	f.ep, f.url = ep, "https://"+addr.String()
}

// token makes an enrollment token for name.
func (f *fixture) token(t *testing.T, name string, ttl time.Duration) *NewToken {
	t.Helper()
	tok, err := f.reg.CreateToken(t.Context(), "user:admin", name, ttl)
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	return tok
}

// enroll enrolls an agent called name into a new directory.
func (f *fixture) enroll(t *testing.T, name string) (string, *inventory.Agent) {
	t.Helper()
	tok := f.token(t, name, 0)
	dir := filepath.Join(t.TempDir(), "agent")
	if _, err := Enroll(t.Context(), EnrollConfig{Server: f.url, Token: tok.Token, CAPin: tok.CAPin, Dir: dir}); err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	return dir, f.agent(t, name)
}

func (f *fixture) agent(t *testing.T, name string) *inventory.Agent {
	t.Helper()
	list, err := f.reg.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.Name == name {
			return &a
		}
	}
	t.Fatalf("agent %q not listed in %+v", name, list)
	return nil
}

// runOnce runs one round of the agent in dir.
func (f *fixture) runOnce(dir string) error {
	return Run(context.Background(), RunConfig{Dir: dir, Once: true, Now: f.clock.Now}, f.logger())
}

// testPKI is a CA made here, apart from certkeeper's.
type testPKI struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestPKI(t *testing.T, cn string) *testPKI {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testPKI{cert: c, key: key}
}

// issue returns a leaf (PEM certificate, PEM key) for the IP addresses
// with the extended key usage eku.
func (p *testPKI) issue(t *testing.T, cn string, eku x509.ExtKeyUsage, ips ...string) ([]byte, []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(12 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{eku}}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
}

// caRequestClient asks the built-in CA for a client certificate.
func caRequestClient(cn string) ca.Request {
	return ca.Request{Requester: ca.Admin("test"), Profile: ca.TLSClient, CommonName: cn, Actor: "test"}
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsaKey(t *testing.T, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func csrPEM(t *testing.T, tmpl *x509.CertificateRequest, key any) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// testJob is a job writing one file into a new directory and running
// reload as its reload command ("" for none).
func testJob(t *testing.T, id int64, reload string) engine.AgentJob {
	t.Helper()
	return engine.AgentJob{DeploymentID: id, Target: "web1-site", Job: engine.Job{
		Plan: engine.Plan{Directory: filepath.Join(t.TempDir(), "site"), Label: "web1-site", ReloadCommand: reload,
			Files: []engine.PlanFile{{Path: "cert.pem", Data: []byte("certificate\n"), Mode: 0o644}}},
		ExpectedSHA256: strings.Repeat("0", 64),
	}}
}
