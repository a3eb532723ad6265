// Package deploytest holds what the tests of the deploy packages share: a
// throwaway PKI with TLS servers, and files and plans on the local
// machine with the checks of what an install left there.
package deploytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/outbound"
)

// Cert is a certificate made by a test with its key.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// PKI is a root, an intermediate it signed, and leaves the intermediate
// signs.
type PKI struct {
	Root, Inter *Cert
}

// Name is the DNS name Good leaves are issued for.
const Name = "www.example.test"

// NewPKI makes a root and an intermediate of organisation org.
func NewPKI(t testing.TB, org string) *PKI {
	t.Helper()
	root := Issue(t, &x509.Certificate{Subject: pkix.Name{Organization: []string{org}, CommonName: org + " Root"}, IsCA: true}, nil)
	inter := Issue(t, &x509.Certificate{Subject: pkix.Name{Organization: []string{org}, CommonName: org + " Issuing CA"}, IsCA: true}, root)
	return &PKI{Root: root, Inter: inter}
}

// Leaf issues a server certificate for names (DNS names or IP literals),
// valid from notBefore to notAfter.
func (p *PKI) Leaf(t testing.TB, notBefore, notAfter time.Time, names ...string) *Cert {
	t.Helper()
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: names[0]}, NotBefore: notBefore, NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	return Issue(t, tmpl, p.Inter)
}

// Good issues a leaf for Name and 127.0.0.1 valid from an hour ago for
// 90 days.
func (p *PKI) Good(t testing.TB) *Cert {
	return p.Leaf(t, time.Now().Add(-time.Hour), time.Now().Add(90*24*time.Hour), Name, "127.0.0.1")
}

// Want expects leaf with p's intermediate, trusting p's root alone.
func (p *PKI) Want(leaf *Cert) engine.Want {
	return engine.Want{Leaf: leaf.Cert, Intermediates: []*x509.Certificate{p.Inter.Cert}, Roots: CertPool(p.Root.Cert)}
}

// Issue signs tmpl with parent, or self-signs it when parent is nil.
// Zero dates (CAs) mean from ten years ago for twenty years.
func Issue(t testing.TB, tmpl *x509.Certificate, parent *Cert) *Cert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber, _ = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().AddDate(-10, 0, 0), time.Now().AddDate(10, 0, 0)
	}
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if tmpl.IsCA {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	signer := &Cert{tmpl, key}
	if parent != nil {
		signer = parent
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer.Cert, key.Public(), signer.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &Cert{c, key}
}

// TLSCert is leaf with its key, serving leaf then chain.
func TLSCert(leaf *Cert, chain ...*Cert) tls.Certificate {
	tc := tls.Certificate{Certificate: [][]byte{leaf.Cert.Raw}, PrivateKey: leaf.Key, Leaf: leaf.Cert}
	for _, c := range chain {
		tc.Certificate = append(tc.Certificate, c.Cert.Raw)
	}
	return tc
}

// CertsPEM encodes certs as PEM.
func CertsPEM(certs ...*Cert) []byte {
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Cert.Raw})...)
	}
	return b
}

// StartTLS serves cert on 127.0.0.1 until the test ends and returns the
// port. clientCAs non-nil demands a client certificate they issued, over
// TLS 1.2, where the handshake itself fails without one (in TLS 1.3 the
// client finishes before the server refuses).
func StartTLS(t *testing.T, cert tls.Certificate, clientCAs *x509.CertPool) int {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		cfg.ClientAuth, cfg.ClientCAs = tls.RequireAndVerifyClientCert, clientCAs
		cfg.MaxVersion = tls.VersionTLS12
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				c.(*tls.Conn).Handshake()
				c.Read(make([]byte, 1))
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().(*net.TCPAddr).Port
}

// FreePort returns a TCP port of 127.0.0.1 nothing listens on.
func FreePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Now is the time the tests install at.
var Now = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// WriteFile writes a file of the test's directory.
func WriteFile(t *testing.T, dir, rel, data string, mode fs.FileMode) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// AssertFile checks a file's content and mode.
func AssertFile(t *testing.T, p, data string, mode fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != data || fi.Mode().Perm() != mode {
		t.Errorf("%s: got %q mode %#o, want %q mode %#o", p, got, fi.Mode().Perm(), data, mode)
	}
}

// AssertMissing checks that p does not exist.
func AssertMissing(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: got err %v, want it missing", p, err)
	}
}

// Plan replaces fullchain.pem and privkey.pem of dir (which hold
// "old cert" 0644 and "old key" 0600) and creates sub/extra.pem.
func Plan(t *testing.T, dir string) engine.Plan {
	t.Helper()
	WriteFile(t, dir, "fullchain.pem", "old cert", 0o644)
	WriteFile(t, dir, "privkey.pem", "old key", 0o600)
	return engine.Plan{Directory: dir, Label: "web1", Files: []engine.PlanFile{
		{Path: "fullchain.pem", Data: []byte("new cert"), Mode: 0o644},
		{Path: "privkey.pem", Data: []byte("new key"), Mode: 0o640, Secret: true},
		{Path: "sub/extra.pem", Data: []byte("extra"), Mode: 0o600},
	}}
}

// AssertBackup checks a backup folder of an install of Plan.
func AssertBackup(t *testing.T, backup string) {
	t.Helper()
	AssertFile(t, filepath.Join(backup, "fullchain.pem"), "old cert", 0o644)
	AssertFile(t, filepath.Join(backup, "privkey.pem"), "old key", 0o600)
	AssertMissing(t, filepath.Join(backup, "sub/extra.pem"))
	data, err := os.ReadFile(filepath.Join(backup, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Time    time.Time
		Label   string
		Written []string
		Created []string
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if !m.Time.Equal(Now) || m.Label != "web1" || len(m.Written) != 3 || !slices.Equal(m.Created, []string{"sub/extra.pem"}) {
		t.Errorf("manifest %s", data)
	}
}

// SplitAddr splits host:port.
func SplitAddr(t testing.TB, addr string) (string, int) {
	t.Helper()
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}

// CertPool holds certs.
func CertPool(certs ...*x509.Certificate) *x509.CertPool {
	cp := x509.NewCertPool()
	for _, c := range certs {
		cp.AddCert(c)
	}
	return cp
}

// DenyPort is an outbound dialer whose policy denies the port of addr on
// 127.0.0.0/8.
func DenyPort(t *testing.T, addr string) *outbound.Dialer {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	p, err := outbound.Parse(nil, []string{"127.0.0.0/8:" + port})
	if err != nil {
		t.Fatal(err)
	}
	return outbound.NewDialer(p)
}

// GroupSites makes n site directories under one root and a plan for each
// whose test fails when any site's cert.pem says BAD, and whose test and
// reload each append a line to a counter file.
func GroupSites(t *testing.T, n int) (root string, plans []engine.Plan) {
	t.Helper()
	root = t.TempDir()
	test := fmt.Sprintf("echo t >> %s/tests; ! grep -rqs BAD %s --include=cert.pem", root, root)
	reload := fmt.Sprintf("echo r >> %s/reloads", root)
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("site%d", i))
		WriteFile(t, dir, "cert.pem", "old", 0o644)
		plans = append(plans, engine.Plan{Directory: dir, TestCommand: test, ReloadCommand: reload,
			Files: []engine.PlanFile{{Path: "cert.pem", Data: []byte(fmt.Sprintf("new %d", i)), Mode: 0o644}}})
	}
	return root, plans
}

// Lines counts the lines of a counter file.
func Lines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}
