package engine_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/internal/deploytest"
	"github.com/certkeeper/certkeeper/internal/deploy/localhost"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/kit"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// engCA is a throwaway root CA for deploy tests.
type engCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newEngCA(t testing.TB) *engCA {
	t.Helper()
	key := engKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "certkeeper deploy test root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	return &engCA{cert: engSign(t, tmpl, tmpl, key.Public(), key), key: key}
}

// leaf issues a server certificate for name with a new key.
func (ca *engCA) leaf(t testing.TB, name string) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key := engKey(t)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	return engSign(t, tmpl, ca.cert, key.Public(), ca.key), key
}

func engKey(t testing.TB) crypto.Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func engSign(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func engSHA256(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// engTLSCheck is a minimal deploy check: it connects and compares the
// served leaf's SHA-256 with the expected one.
func engTLSCheck(ctx context.Context, spec inventory.CheckSpec, want engine.Want) *inventory.CheckResult {
	addr := net.JoinHostPort(spec.Host, strconv.Itoa(spec.Port))
	res := &inventory.CheckResult{Time: time.Now(), Source: "probe", Address: addr, ServerName: spec.SNI,
		ExpectedSHA256: want.ExpectedSHA256}
	if want.Leaf != nil {
		res.ExpectedSHA256 = engSHA256(want.Leaf)
	}
	served, err := engServedLeaf(ctx, addr, spec.SNI)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	res.ServedSHA256 = engSHA256(served)
	res.Match = res.ServedSHA256 == res.ExpectedSHA256
	res.Passed = res.Match
	return res
}

func engServedLeaf(ctx context.Context, addr, sni string) (*x509.Certificate, error) {
	d := tls.Dialer{Config: &tls.Config{ServerName: sni, InsecureSkipVerify: true}} //nolint:gosec // the check compares hashes
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
}

// engNginxSite is an nginx serving one server block from dir's
// fullchain.pem and privkey.pem, and the target that deploys there.
type engNginxSite struct {
	ca     *engCA
	dir    string
	nginx  *testenv.Nginx
	target *inventory.Target
	spec   inventory.CheckSpec
}

const engSiteName = "deploy.example.test"

func newEngNginxSite(t *testing.T) *engNginxSite {
	t.Helper()
	testenv.Command(t, "nginx")
	s := &engNginxSite{ca: newEngCA(t), dir: t.TempDir()}
	first, key := s.ca.leaf(t, engSiteName)
	s.writePEM(t, "fullchain.pem", first, key)
	ng := testenv.StartNginx(t, []testenv.NginxServer{{Name: engSiteName,
		CertFile: filepath.Join(s.dir, "fullchain.pem"), KeyFile: filepath.Join(s.dir, "privkey.pem")}})
	s.nginx = ng
	host, port := deploytest.SplitAddr(t, ng.Servers[0].Listen)
	s.spec = inventory.CheckSpec{Host: host, Port: port, SNI: engSiteName}
	s.target = &inventory.Target{Name: "web1", Preset: "nginx", Directory: s.dir,
		TestCommand: ng.TestCommand(), ReloadCommand: ng.ReloadCommand(), ReloadTimeout: 30 * time.Second}
	return s
}

func (s *engNginxSite) writePEM(t *testing.T, certFile string, c *x509.Certificate, key crypto.Signer) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	deploytest.WriteFile(t, s.dir, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})), 0o644)
	deploytest.WriteFile(t, s.dir, "privkey.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), 0o600)
}

// plan builds the nginx preset's plan for leaf and key.
func (s *engNginxSite) plan(t *testing.T, leaf *x509.Certificate, key crypto.Signer) engine.Plan {
	t.Helper()
	pr, err := engine.FindPreset(engine.Builtin(), "nginx")
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.BuildPlan(pr, s.target, kit.Material{Leaf: leaf, Chain: []*x509.Certificate{s.ca.cert}, Key: key})
	if err != nil {
		t.Fatalf("BuildPlan: %v", err)
	}
	return p
}

func (s *engNginxSite) job(p engine.Plan, expected *x509.Certificate) engine.Job {
	return engine.Job{Plan: p, Check: s.spec, ExpectedSHA256: engSHA256(expected), RollbackOnFailure: true,
		Chain: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.ca.cert.Raw})}
}

// served returns the leaf nginx serves now.
func (s *engNginxSite) served(t *testing.T) *x509.Certificate {
	t.Helper()
	c, err := engServedLeaf(context.Background(), net.JoinHostPort(s.spec.Host, strconv.Itoa(s.spec.Port)), engSiteName)
	if err != nil {
		t.Fatalf("connect to nginx: %v\n%s", err, s.nginx.Log())
	}
	return c
}

// servedSoon returns the leaf nginx serves once it is want, or after 5
// seconds whatever it serves: old workers may take a connection or two
// right after a reload.
func (s *engNginxSite) servedSoon(t *testing.T, want *x509.Certificate) *x509.Certificate {
	t.Helper()
	got := s.served(t)
	for deadline := time.Now().Add(5 * time.Second); !got.Equal(want) && time.Now().Before(deadline); got = s.served(t) {
		time.Sleep(100 * time.Millisecond)
	}
	return got
}

func TestNginxRunDeploysAndChecks(t *testing.T) {
	s := newEngNginxSite(t)
	next, key := s.ca.leaf(t, engSiteName)
	out := engine.Run(context.Background(), localhost.New(), s.job(s.plan(t, next, key), next), engTLSCheck, time.Now())
	if out.Error != "" || !out.Installed || out.RolledBack || out.Check == nil || !out.Check.Passed {
		t.Fatalf("Run: %+v (check %+v)\n%s", out, out.Check, s.nginx.Log())
	}
	if got := s.servedSoon(t, next); !got.Equal(next) {
		t.Errorf("nginx serves %s, want the deployed %s", got.SerialNumber, next.SerialNumber)
	}
	fi, err := os.Stat(filepath.Join(s.dir, "privkey.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("privkey.pem: %v, %v; want mode 0600", fi, err)
	}
}

func TestNginxBrokenDeploymentRollsBack(t *testing.T) {
	s := newEngNginxSite(t)
	before := s.served(t)
	next, _ := s.ca.leaf(t, engSiteName)
	_, otherKey := s.ca.leaf(t, engSiteName)
	p := s.plan(t, next, otherKey) // the key does not match the certificate
	p.ReloadCommand += " && touch " + filepath.Join(s.dir, "RELOADED")
	rep, err := engine.Apply(context.Background(), localhost.New(), p, time.Now())
	if err == nil || !strings.Contains(err.Error(), "test command failed") {
		t.Fatalf("Apply: %v, want nginx -t to fail", err)
	}
	if !rep.RolledBack || !strings.Contains(rep.TestOutput, "key values mismatch") {
		t.Errorf("report RolledBack %v, TestOutput %q", rep.RolledBack, rep.TestOutput)
	}
	deploytest.AssertMissing(t, filepath.Join(s.dir, "RELOADED"))
	if got := s.served(t); !got.Equal(before) {
		t.Errorf("nginx serves %s, want the old %s", got.SerialNumber, before.SerialNumber)
	}
	// The restored files pass nginx -t again.
	if out, err := localhost.New().Run(context.Background(), s.nginx.TestCommand(), time.Minute); err != nil {
		t.Errorf("nginx -t after the roll back: %v: %s", err, out)
	}
}

func TestNginxCheckFailureRollsBack(t *testing.T) {
	s := newEngNginxSite(t)
	before := s.served(t)
	next, key := s.ca.leaf(t, engSiteName)
	expected, _ := s.ca.leaf(t, engSiteName) // not what is deployed
	j := s.job(s.plan(t, next, key), expected)
	j.Settle = engine.Settle{Timeout: 700 * time.Millisecond, Interval: 100 * time.Millisecond}
	out := engine.Run(context.Background(), localhost.New(), j, engTLSCheck, time.Now())
	if !out.Installed || !out.RolledBack || !strings.Contains(out.Error, "check failed") || out.Check.Passed {
		t.Fatalf("Run: %+v", out)
	}
	if out.Check.ServedSHA256 != engSHA256(next) {
		t.Errorf("the check saw %s, want the deployed %s (the reload settled)", out.Check.ServedSHA256, engSHA256(next))
	}
	var got *x509.Certificate
	for range 50 { // the reload after the roll back is asynchronous too
		if got = s.served(t); got.Equal(before) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !got.Equal(before) {
		t.Errorf("nginx serves %s, want the old %s back", got.SerialNumber, before.SerialNumber)
	}
}

func TestBuildPlanKeyStores(t *testing.T) {
	ca := newEngCA(t)
	leaf, key := ca.leaf(t, engSiteName)
	target := &inventory.Target{Name: "tomcat", Directory: "/opt/tomcat/conf", Owner: "tomcat:tomcat",
		ReloadCommand: "systemctl restart tomcat", ReloadTimeout: time.Minute}
	for _, name := range []string{"tomcat-pkcs12", "tomcat-jks"} {
		pr, err := engine.FindPreset(engine.Builtin(), name)
		if err != nil {
			t.Fatal(err)
		}
		m := kit.Material{Leaf: leaf, Chain: []*x509.Certificate{ca.cert}, Key: key}
		if _, err := engine.BuildPlan(pr, target, m); err == nil || !strings.Contains(err.Error(), "password") {
			t.Errorf("%s without a password: %v, want refused", name, err)
		}
		m.Password = "changeit"
		p, err := engine.BuildPlan(pr, target, m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		f := p.Files[0]
		if len(p.Files) != 1 || !f.Secret || f.Mode != 0o600 || len(f.Data) == 0 || p.Owner != "tomcat:tomcat" ||
			p.Directory != target.Directory || p.ReloadCommand != target.ReloadCommand || p.TestCommand != "" ||
			p.Timeout != time.Minute || p.Label != "tomcat" {
			t.Errorf("%s: plan %+v", name, p)
		}
		b, err := format.Decode(f.Data, []byte("changeit"))
		if err != nil || b.Key == nil || !b.KeyMatchesLeaf || len(b.Chain) == 0 || !b.Chain[0].Equal(leaf) {
			t.Errorf("%s: the key store does not read back with its password: %+v, %v", name, b, err)
		}
	}
}
