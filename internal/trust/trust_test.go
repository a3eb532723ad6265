package trust

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testPKI is a throwaway hierarchy: root -> inter -> leaf, plus an
// unrelated other root with its own intermediate, and an RSA intermediate
// under root able to sign with SHA-1.
type testPKI struct {
	root, inter, rsaInter *issued
	otherRoot, otherInter *issued
}

const leafName = "www.example.test"

func newPKI(t testing.TB) *testPKI {
	t.Helper()
	long := spec{ca: true, notBefore: testNow.Add(-365 * day), notAfter: testNow.Add(3650 * day)}
	p := &testPKI{}
	p.root = issue(t, with(long, "Test Root"), nil)
	p.inter = issue(t, with(long, "Test Intermediate"), p.root)
	rsaSpec := with(long, "Test RSA Intermediate")
	rsaSpec.key = rsaKey(t, 2048)
	p.rsaInter = issue(t, rsaSpec, p.root)
	p.otherRoot = issue(t, with(long, "Other Root"), nil)
	p.otherInter = issue(t, with(long, "Other Intermediate"), p.otherRoot)
	return p
}

func with(s spec, cn string) spec {
	s.cn = cn
	return s
}

// leafSpec is a good leaf for leafName and 127.0.0.1, valid around testNow.
func leafSpec() spec {
	return spec{cn: leafName, dns: []string{leafName}, ips: []net.IP{net.IPv4(127, 0, 0, 1)}}
}

func fixedPolicy(roots ...*issued) *Policy {
	p := &Policy{Roots: x509.NewCertPool(), Now: func() time.Time { return testNow }}
	for _, r := range roots {
		p.Roots.AddCert(r.cert)
	}
	return p
}

func certs(is ...*issued) []*x509.Certificate {
	out := make([]*x509.Certificate, len(is))
	for i, c := range is {
		out[i] = c.cert
	}
	return out
}

func TestJudge(t *testing.T) {
	p := newPKI(t)
	leaf := func(mod func(*spec), parent *issued) *issued {
		s := leafSpec()
		if mod != nil {
			mod(&s)
		}
		return issue(t, s, parent)
	}
	good := leaf(nil, p.inter)
	selfSigned := leaf(nil, nil)
	rsaWeak := rsaKey(t, 1024)
	sha1Root := issue(t, spec{cn: "SHA-1 Root", ca: true, sigAlg: x509.ECDSAWithSHA1}, nil)
	sha1RootChain := certs(leaf(nil, sha1Root), sha1Root)
	trustSHA1Root := func(p *Policy) { p.Roots.AddCert(sha1Root.cert) }
	tests := []struct {
		name     string
		chain    []*x509.Certificate
		hostname string
		policy   func(*Policy)
		want     []Code
	}{
		{"good", certs(good, p.inter), leafName, nil, nil},
		{"good with root served, any order", certs(good, p.root, p.inter), "", nil, nil},
		{"good by IP", certs(good, p.inter), "127.0.0.1", nil, nil},
		{"expired leaf", certs(leaf(func(s *spec) { s.notAfter = testNow.Add(-3 * day) }, p.inter), p.inter), leafName, nil, []Code{Expired}},
		{"expired intermediate", certs(good, issue(t, spec{cn: "Test Intermediate", ca: true, key: p.inter.key, notBefore: testNow.Add(-365 * day), notAfter: testNow.Add(-day)}, p.root)), "", nil, []Code{Expired}},
		{"served root expired is not reported", certs(good, p.inter, issue(t, spec{cn: "Test Root", ca: true, key: p.root.key, notAfter: testNow.Add(-day)}, nil)), "", nil, nil},
		{"not yet valid", certs(leaf(func(s *spec) { s.notBefore = testNow.Add(day) }, p.inter), p.inter), "", nil, []Code{NotYetValid}},
		{"expires soon", certs(leaf(func(s *spec) { s.notAfter = testNow.Add(10 * day) }, p.inter), p.inter), "", nil, []Code{ExpiresSoon}},
		{"expires after a short window", certs(leaf(func(s *spec) { s.notAfter = testNow.Add(10 * day) }, p.inter), p.inter), "", func(p *Policy) { p.ExpiresSoon = 5 * day }, nil},
		{"self-signed leaf", certs(selfSigned), leafName, nil, []Code{SelfSigned, UntrustedRoot}},
		{"self-signed leaf that is trusted", certs(selfSigned), leafName, func(p *Policy) { p.Roots.AddCert(selfSigned.cert) }, []Code{SelfSigned}},
		{"untrusted root served", certs(leaf(nil, p.otherInter), p.otherInter, p.otherRoot), "", nil, []Code{UntrustedRoot}},
		{"untrusted root not served", certs(leaf(nil, p.otherInter), p.otherInter), "", nil, []Code{UntrustedRoot, IncompleteChain}},
		{"hostname mismatch", certs(good, p.inter), "other.example.test", nil, []Code{HostnameMismatch}},
		{"IP mismatch", certs(good, p.inter), "127.0.0.2", nil, []Code{HostnameMismatch}},
		{"incomplete, intermediate known", certs(good), "", func(pol *Policy) { pol.Intermediates = pool(p.inter.cert) }, []Code{IncompleteChain}},
		{"incomplete, intermediate unknown", certs(good), "", nil, []Code{UntrustedRoot, IncompleteChain}},
		{"weak RSA leaf key", certs(leaf(func(s *spec) { s.key = rsaWeak }, p.inter), p.inter), "", nil, []Code{WeakKey}},
		{"weak EC leaf key", certs(leaf(func(s *spec) { s.key = ecKey(t, elliptic.P224()) }, p.inter), p.inter), "", nil, []Code{WeakKey}},
		{"weak intermediate key", weakInterChain(t, p, rsaWeak), "", nil, []Code{WeakKey}},
		{"SHA-1 leaf", certs(leaf(func(s *spec) { s.sigAlg = x509.SHA1WithRSA }, p.rsaInter), p.rsaInter), "", nil, []Code{WeakSignature}},
		{"ECDSA-SHA1 intermediate", sha1InterChain(t, p), "", nil, []Code{WeakSignature}},
		{"SHA-1 self-signed root served", sha1RootChain, "", trustSHA1Root, nil},
		{"everything wrong", certs(leaf(func(s *spec) { s.key, s.notAfter = rsaWeak, testNow.Add(-day) }, p.otherInter)), "x.test", nil,
			[]Code{Expired, UntrustedRoot, HostnameMismatch, IncompleteChain, WeakKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := fixedPolicy(p.root)
			if tt.policy != nil {
				tt.policy(pol)
			}
			got := pol.Judge(context.Background(), tt.chain, tt.hostname)
			if !slices.Equal(Codes(got), tt.want) {
				t.Errorf("codes = %v, want %v; findings: %v", Codes(got), tt.want, got)
			}
		})
	}
}

// weakInterChain is a good leaf under an RSA-1024 intermediate.
func weakInterChain(t *testing.T, p *testPKI, key crypto.Signer) []*x509.Certificate {
	inter := issue(t, spec{cn: "Weak Intermediate", ca: true, key: key}, p.root)
	return certs(issue(t, leafSpec(), inter), inter)
}

// sha1InterChain is a good leaf under an intermediate that root signed
// with ECDSA-SHA1.
func sha1InterChain(t *testing.T, p *testPKI) []*x509.Certificate {
	inter := issue(t, spec{cn: "SHA-1 Intermediate", ca: true, sigAlg: x509.ECDSAWithSHA1}, p.root)
	return certs(issue(t, leafSpec(), inter), inter)
}

func TestJudgeFetchIssuer(t *testing.T) {
	p := newPKI(t)
	const url = "http://127.0.0.1:1/inter.cer"
	s := leafSpec()
	s.aia = []string{url}
	leaf := issue(t, s, p.inter)
	interPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.inter.cert.Raw})
	tests := []struct {
		name  string
		serve func(url string) ([]byte, error)
		want  []Code
	}{
		{"DER", func(string) ([]byte, error) { return p.inter.cert.Raw, nil }, []Code{IncompleteChain}},
		{"PEM", func(string) ([]byte, error) { return interPEM, nil }, []Code{IncompleteChain}},
		{"fetch fails", func(string) ([]byte, error) { return nil, errors.New("no route") }, []Code{UntrustedRoot, IncompleteChain}},
		{"garbage", func(string) ([]byte, error) { return []byte("<html>"), nil }, []Code{UntrustedRoot, IncompleteChain}},
		{"unrelated certificate", func(string) ([]byte, error) { return p.otherInter.cert.Raw, nil }, []Code{UntrustedRoot, IncompleteChain}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []string
			pol := fixedPolicy(p.root)
			pol.FetchIssuer = func(_ context.Context, u string) ([]byte, error) {
				asked = append(asked, u)
				return tt.serve(u)
			}
			got := Codes(pol.Judge(context.Background(), certs(leaf), ""))
			if !slices.Equal(got, tt.want) {
				t.Errorf("codes = %v, want %v", got, tt.want)
			}
			if !slices.Equal(asked, []string{url}) {
				t.Errorf("fetched %v, want %v", asked, []string{url})
			}
		})
	}
}

// TestJudgeFetchLimit: a loop of caIssuers URLs stops after maxFetches, and
// a chain that verifies as served fetches nothing.
func TestJudgeFetchLimit(t *testing.T) {
	p := newPKI(t)
	s := leafSpec()
	s.aia = []string{"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"}
	loopy := issue(t, with(spec{ca: true, aia: s.aia}, "Loopy Intermediate"), p.otherRoot)
	leaf := issue(t, s, loopy)
	var n atomic.Int32
	pol := fixedPolicy(p.root)
	pol.FetchIssuer = func(context.Context, string) ([]byte, error) {
		n.Add(1)
		return loopy.cert.Raw, nil
	}
	pol.Judge(context.Background(), certs(leaf), "")
	if got := n.Load(); got != maxFetches {
		t.Errorf("fetches = %d, want %d", got, maxFetches)
	}
	n.Store(0)
	pol.Judge(context.Background(), certs(issue(t, s, p.inter), p.inter), "")
	if got := n.Load(); got != 0 {
		t.Errorf("fetches for a complete chain = %d, want 0", got)
	}
}

func TestJudgeMessages(t *testing.T) {
	p := newPKI(t)
	s := leafSpec()
	s.notAfter = testNow.Add(-3 * day)
	expired := issue(t, s, p.inter)
	s.notAfter = testNow.Add(12*day + time.Hour)
	soon := issue(t, s, p.inter)
	tests := []struct {
		chain    []*x509.Certificate
		hostname string
		want     string
	}{
		{certs(expired, p.inter), "", `certificate "www.example.test" expired 3 days ago (2026-11-19)`},
		{certs(soon, p.inter), "", `certificate "www.example.test" expires in 12 days (2026-12-04)`},
		{certs(soon, p.inter), "x.test", `certificate "www.example.test" is not valid for "x.test" (it names "www.example.test", 127.0.0.1)`},
		{certs(soon), "", `the issuer of certificate "www.example.test", "Test Intermediate", was not sent by the server and cannot be found`},
	}
	for _, tt := range tests {
		got := fixedPolicy(p.root).Judge(context.Background(), tt.chain, tt.hostname)
		msgs := make([]string, len(got))
		for i, f := range got {
			msgs[i] = f.Message
		}
		if !slices.Contains(msgs, tt.want) {
			t.Errorf("messages = %q, want one to be %q", msgs, tt.want)
		}
	}
}

func TestJudgeZero(t *testing.T) {
	var nilPolicy *Policy
	if got := nilPolicy.Judge(context.Background(), nil, "x.test"); got != nil {
		t.Errorf("Judge(empty chain) = %v, want nil", got)
	}
	// The zero Policy uses the system roots, which do not hold a throwaway
	// root: a served self-signed root is untrusted.
	p := newPKI(t)
	got := Codes(nilPolicy.Judge(context.Background(), certs(issue(t, leafSpec(), p.inter), p.inter, p.root), ""))
	if want := []Code{UntrustedRoot}; !slices.Equal(got, want) {
		t.Errorf("codes = %v, want %v", got, want)
	}
}

func TestCodes(t *testing.T) {
	fs := []Finding{{Code: WeakKey}, {Code: Expired}, {Code: WeakKey}, {Code: UntrustedRoot}, {Code: Expired}}
	if got, want := Codes(fs), []Code{Expired, UntrustedRoot, WeakKey}; !slices.Equal(got, want) {
		t.Errorf("Codes = %v, want %v", got, want)
	}
	if got := Codes(nil); got != nil {
		t.Errorf("Codes(nil) = %v, want nil", got)
	}
	if strings.Join([]string{string(Expired), string(WeakSignature)}, ",") != "expired,weak_signature" {
		t.Error("code strings changed; they are a stable interface")
	}
}

func BenchmarkJudge(b *testing.B) {
	p := newPKI(b)
	chain := certs(issue(b, leafSpec(), p.inter), p.inter)
	pol := fixedPolicy(p.root)
	ctx := context.Background()
	for b.Loop() {
		if fs := pol.Judge(ctx, chain, leafName); len(fs) != 0 {
			b.Fatalf("findings: %v", fs)
		}
	}
}
