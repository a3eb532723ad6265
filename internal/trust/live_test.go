package trust

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/probe"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestLiveOpenSSL probes real `openssl s_server` processes serving one flaw
// each and judges what they served: the exact code set must come out.
func TestLiveOpenSSL(t *testing.T) {
	openssl := testenv.Command(t, "openssl")
	p := newPKI(t)
	leaf := func(mod func(*spec), parent *issued) *issued {
		s := leafSpec()
		if mod != nil {
			mod(&s)
		}
		return issue(t, s, parent)
	}
	good := leaf(nil, p.inter)
	weak := []string{"-cipher", "DEFAULT@SECLEVEL=0"}
	tests := []struct {
		name       string
		leaf       *issued
		chain      []*issued // sent after the leaf
		serverName string
		policy     func(*Policy)
		args       []string
		want       []Code
	}{
		{"good chain", good, []*issued{p.inter}, leafName, nil, nil, nil},
		{"expired", leaf(func(s *spec) { s.notAfter = testNow.Add(-3 * day) }, p.inter), []*issued{p.inter}, leafName, nil, nil, []Code{Expired}},
		{"not yet valid", leaf(func(s *spec) { s.notBefore = testNow.Add(2 * day) }, p.inter), []*issued{p.inter}, leafName, nil, nil, []Code{NotYetValid}},
		{"expires soon", leaf(func(s *spec) { s.notAfter = testNow.Add(5 * day) }, p.inter), []*issued{p.inter}, leafName, nil, nil, []Code{ExpiresSoon}},
		{"self-signed leaf", leaf(nil, nil), nil, leafName, nil, nil, []Code{SelfSigned, UntrustedRoot}},
		{"untrusted root", leaf(nil, p.otherInter), []*issued{p.otherInter, p.otherRoot}, leafName, nil, nil, []Code{UntrustedRoot}},
		{"hostname mismatch", good, []*issued{p.inter}, "other.example.test", nil, nil, []Code{HostnameMismatch}},
		{"incomplete chain", good, nil, leafName, func(pol *Policy) { pol.Intermediates = pool(p.inter.cert) }, nil, []Code{IncompleteChain}},
		{"weak key", leaf(func(s *spec) { s.key = rsaKey(t, 1024) }, p.inter), []*issued{p.inter}, leafName, nil, weak, []Code{WeakKey}},
		{"weak signature", leaf(func(s *spec) { s.sigAlg = x509.SHA1WithRSA }, p.rsaInter), []*issued{p.rsaInter}, leafName, nil, weak, []Code{WeakSignature}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := startSServer(t, openssl, tt.leaf, tt.chain, tt.args...)
			res, err := probe.TLS(context.Background(), addr, probe.Options{ServerName: tt.serverName, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatalf("probe: %v", err)
			}
			assertServed(t, res.Chain, append([]*issued{tt.leaf}, tt.chain...))
			pol := fixedPolicy(p.root)
			if tt.policy != nil {
				tt.policy(pol)
			}
			got := pol.Judge(context.Background(), res.Chain, res.ServerName)
			if !slices.Equal(Codes(got), tt.want) {
				t.Errorf("codes = %v, want %v; findings: %v", Codes(got), tt.want, got)
			}
		})
	}
}

// TestLiveAIA: a server that omits its intermediate, whose leaf names the
// intermediate's URL in AIA caIssuers, served over HTTP on loopback.
func TestLiveAIA(t *testing.T) {
	openssl := testenv.Command(t, "openssl")
	p := newPKI(t)
	var fetched atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Header().Set("Content-Type", "application/pkix-cert")
		w.Write(p.inter.cert.Raw)
	}))
	defer srv.Close()
	s := leafSpec()
	s.aia = []string{srv.URL + "/inter.cer"}
	leaf := issue(t, s, p.inter)
	res, err := probe.TLS(context.Background(), startSServer(t, openssl, leaf, nil), probe.Options{ServerName: leafName})
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	pol := fixedPolicy(p.root)
	if got, want := Codes(pol.Judge(context.Background(), res.Chain, leafName)), []Code{UntrustedRoot, IncompleteChain}; !slices.Equal(got, want) {
		t.Errorf("without FetchIssuer: codes = %v, want %v", got, want)
	}
	pol.FetchIssuer = httpFetch(srv.Client())
	if got, want := Codes(pol.Judge(context.Background(), res.Chain, leafName)), []Code{IncompleteChain}; !slices.Equal(got, want) {
		t.Errorf("with FetchIssuer: codes = %v, want %v", got, want)
	}
	if n := fetched.Load(); n != 1 {
		t.Errorf("fetched %d times, want 1", n)
	}
}

func httpFetch(client *http.Client) func(context.Context, string) ([]byte, error) {
	return func(ctx context.Context, url string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	}
}

func assertServed(t *testing.T, got []*x509.Certificate, want []*issued) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = bytes.Equal(got[i].Raw, want[i].cert.Raw)
	}
	if !ok {
		t.Fatalf("served %d certificates, want %d in the order given to s_server", len(got), len(want))
	}
}

// startSServer runs `openssl s_server` on a free loopback port serving leaf
// and chain, kills it when the test ends, and returns its address. A port
// taken between choosing and binding is retried.
func startSServer(t *testing.T, openssl string, leaf *issued, chain []*issued, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"s_server", "-www",
		"-cert", writePEM(t, dir, "leaf.pem", nil, leaf.cert),
		"-key", writePEM(t, dir, "key.pem", leaf.key)}
	if len(chain) > 0 {
		args = append(args, "-cert_chain", writePEM(t, dir, "chain.pem", nil, certs(chain...)...))
	}
	args = append(args, extra...)
	var last string
	for range 5 {
		addr := freePort(t)
		if out, ok := runSServer(t, openssl, append(args, "-accept", addr)); ok {
			return addr
		} else {
			last = out
		}
	}
	t.Fatalf("openssl s_server did not start: %s", last)
	return ""
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// runSServer starts s_server and waits for its "ACCEPT" line. It reports
// false, with the output, if the process exits first (port taken, bad
// certificate) or stays silent for 10 seconds.
func runSServer(t *testing.T, openssl string, args []string) (string, bool) {
	out := &watcher{ready: make(chan struct{})}
	cmd := exec.Command(openssl, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start openssl: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	select {
	case <-out.ready:
		return "", true
	case <-exited:
	case <-time.After(10 * time.Second):
	}
	return out.String(), false
}

// watcher collects a process's output and closes ready at "ACCEPT".
type watcher struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func (w *watcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if bytes.Contains(w.buf.Bytes(), []byte("ACCEPT")) {
		w.once.Do(func() { close(w.ready) })
	}
	return len(b), nil
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
