package stack_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"

	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestMetrics starts a process with a metrics listener and scrapes both
// places the metrics are served: the plain listener, open, and the HTTPS
// one, for API tokens only. promtool checks the page.
func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	cfg := loopbackConfig(dir, io.Discard)
	cfg.Process.MetricsListen = "127.0.0.1:0"
	p, err := stack.NewProcess(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	notAfter := definitionWithCertificate(t, p)
	plain := "http://" + p.Addr(stack.ListenerMetrics).String()
	hc := &http.Client{Timeout: 30 * time.Second}
	var body string
	testenv.WaitFor(t, 30*time.Second, "the metrics listener to answer", func() bool {
		code, text := get(t, hc, plain+"/metrics", "")
		body = text
		return code == http.StatusOK
	})
	want := fmt.Sprintf(`certkeeper_certificate_not_after_seconds{common_name="shop.example.test",definition="shop",serial="%s"} %s`,
		notAfter.serial, promFloat(notAfter.notAfter))
	if !strings.Contains(body, want) || !strings.Contains(body, `certkeeper_scrape_error{source="certificates"} 0`) {
		t.Errorf("GET /metrics lacks %q and a clean certificates source:\n%s", want, body)
	}
	promtool(t, body, "check", "metrics")
	if code, _ := get(t, hc, plain+"/api/v1/certificates", ""); code != http.StatusNotFound {
		t.Errorf("GET /api/v1/certificates on the metrics listener = %d, want 404", code)
	}
	t.Run("HTTPS needs a token", func(t *testing.T) { testMetricsToken(t, p, caClient(t, dir)) })
}

func testMetricsToken(t *testing.T, p *stack.Process, hc *http.Client) {
	ctx := context.Background()
	if _, err := p.Users.Create(ctx, "test", "scraper", inventory.RoleUser, ""); err != nil {
		t.Fatal(err)
	}
	token, _, err := p.Users.CreateToken(ctx, "test", "scraper", "prometheus", 0)
	if err != nil {
		t.Fatal(err)
	}
	url := "https://" + p.Addr(stack.ListenerMain).String() + "/metrics"
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"unknown token", "ck_" + strings.Repeat("A", 43), http.StatusUnauthorized},
		{"user token", token, http.StatusOK},
	} {
		code, body := get(t, hc, url, tc.token)
		if code != tc.want {
			t.Errorf("%s: GET /metrics over HTTPS = %d %q, want %d", tc.name, code, body, tc.want)
		}
		if code == http.StatusOK && !strings.Contains(body, "certkeeper_certificate_not_after_seconds{") {
			t.Errorf("%s: GET /metrics over HTTPS lacks the certificate metric:\n%s", tc.name, body)
		}
	}
}

func get(t *testing.T, hc *http.Client, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

type current struct {
	serial   string
	notAfter time.Time
}

// definitionWithCertificate stores a real certificate as the current one
// of the definition "shop".
func definitionWithCertificate(t *testing.T, p *stack.Process) current {
	t.Helper()
	ctx := context.Background()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(40 * 24 * time.Hour).Truncate(time.Second)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0x5eed), Subject: pkix.Name{CommonName: "shop.example.test"},
		NotBefore: end.Add(-90 * 24 * time.Hour), NotAfter: end}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Store.PutCertificates(ctx, []*inventory.Certificate{inventory.NewCertificate(cert, "test")})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Store.PutDefinition(ctx, &inventory.Definition{Name: "shop", KeyType: "ecdsa-p256", CurrentCertificateID: res[0].ID}); err != nil {
		t.Fatal(err)
	}
	return current{serial: "5eed", notAfter: end}
}

// promFloat formats Unix seconds as the text format writes a float.
func promFloat(t time.Time) string {
	return fmt.Sprintf("%g", float64(t.Unix()))
}

// promtool runs the real promtool with text on its standard input.
func promtool(t *testing.T, text string, args ...string) {
	t.Helper()
	cmd := exec.Command(testenv.Command(t, "promtool"), args...)
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestMetricsListener: a bad metrics address fails the start with a
// ListenError before anything is created; none configured binds none.
func TestMetricsListener(t *testing.T) {
	for _, addr := range []string{"not-an-address", "127.0.0.1:99999"} {
		dir := filepath.Join(t.TempDir(), "data")
		cfg := loopbackConfig(dir, io.Discard)
		cfg.Process.MetricsListen = addr
		p, err := stack.NewProcess(context.Background(), cfg)
		var le *stack.ListenError
		if !errors.As(err, &le) || le.Listener != stack.ListenerMetrics || le.Addr != addr {
			if p != nil {
				p.Close()
			}
			t.Fatalf("NewProcess with metrics address %q = %v, want a ListenError for the metrics listener", addr, err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("data directory after a failed start: stat = %v, want it not to exist", err)
		}
	}
	for _, addr := range []string{"", "off"} {
		cfg := loopbackConfig(t.TempDir(), io.Discard)
		cfg.Process.MetricsListen = addr
		p, err := stack.NewProcess(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if a := p.Addr(stack.ListenerMetrics); a != nil {
			t.Errorf("MetricsListen %q bound %v, want no metrics listener", addr, a)
		}
		p.Close()
	}
}
