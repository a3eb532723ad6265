package metrics_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/metrics"
	"github.com/certkeeper/certkeeper/internal/store"
)

// certificate makes a real self-signed certificate valid until notAfter.
func certificate(t *testing.T, cn string, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// scrape serves h on loopback, GETs it and parses the text format.
func scrape(t *testing.T, h http.Handler) (string, map[string]*dto.MetricFamily) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %q, want 200 in the text format", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("the page does not parse as the text format: %v\n%s", err, body)
	}
	return string(body), fams
}

// value returns the value of the series of name with exactly labels.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	fam := fams[name]
	if fam == nil {
		return 0, false
	}
	for _, m := range fam.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		match := true
		for _, l := range m.Label {
			match = match && labels[l.GetName()] == l.GetValue()
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		}
	}
	return 0, false
}

func series(fams map[string]*dto.MetricFamily, name string) int {
	if fam := fams[name]; fam != nil {
		return len(fam.Metric)
	}
	return 0
}

type want struct {
	name   string
	labels map[string]string
	value  float64
}

func checkValues(t *testing.T, fams map[string]*dto.MetricFamily, wants []want) {
	t.Helper()
	for _, w := range wants {
		got, ok := value(fams, w.name, w.labels)
		if !ok || got != w.value {
			t.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, got, ok, w.value)
		}
	}
}

func ep(name string) map[string]string { return map[string]string{"endpoint": name} }

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// endpointsFrom returns endpoints observed serving leaf and inter (a
// passed check), a failed one, a pending one and a second endpoint on the
// first's address and name.
func endpointsFrom(leaf, inter *x509.Certificate, checked time.Time) []inventory.Endpoint {
	served := &inventory.EndpointResult{
		Check:        inventory.CheckResult{Time: checked, Passed: true},
		LeafNotAfter: leaf.NotAfter, LeafLifetime: leaf.NotAfter.Sub(leaf.NotBefore), ChainNotAfter: inter.NotAfter,
	}
	failed := &inventory.EndpointResult{Check: inventory.CheckResult{Time: checked.Add(time.Minute), Error: "connection refused"}}
	return []inventory.Endpoint{
		{ID: 1, Address: "127.0.0.1:8443", ServerName: "shop.example.test", Last: served},
		{ID: 2, Address: "127.0.0.2:443", ServerName: "127.0.0.2", Failures: 3, Last: failed},
		{ID: 3, Address: "127.0.0.3:443"},
		{ID: 9, Address: "127.0.0.1:8443", ServerName: "shop.example.test", StartTLS: "smtp", Last: failed},
	}
}

// TestHandler checks every metric against the sources it was read from:
// real certificates, a real SQLite inventory, fixed check times.
func TestHandler(t *testing.T) {
	ctx := context.Background()
	checked := time.Date(2026, 12, 8, 1, 30, 0, 0, time.UTC)
	leaf := certificate(t, "shop.example.test", checked.Add(30*24*time.Hour).Truncate(time.Second))
	inter := certificate(t, "Example Issuing CA", checked.Add(10*24*time.Hour).Truncate(time.Second))
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	res, err := st.PutCertificates(ctx, []*inventory.Certificate{inventory.NewCertificate(leaf, "test")})
	if err != nil {
		t.Fatal(err)
	}
	def := &inventory.Definition{Name: "shop", KeyType: "ecdsa-p256", CurrentCertificateID: res[0].ID}
	if err := st.PutDefinition(ctx, def); err != nil {
		t.Fatal(err)
	}
	e := metrics.New(metrics.Sources{
		Endpoints: func(context.Context) ([]inventory.Endpoint, error) {
			return endpointsFrom(leaf, inter, checked), nil
		},
		Certificates: st.DefinitionCertificates,
		Alerts: func(context.Context) (map[string]int, error) {
			return map[string]int{"expiry": 2, "check-failed": 0}, nil
		},
		Leader:    func() bool { return true },
		RunTotals: func() []metrics.RunTotal { return []metrics.RunTotal{{"monitor", "ok", 5}, {"monitor", "error", 1}} },
	}, metrics.Config{})
	text, fams := scrape(t, e.Handler())
	first, second, dup := "127.0.0.1:8443/shop.example.test", "127.0.0.2:443", "127.0.0.1:8443/shop.example.test#9"
	checkValues(t, fams, []want{
		{"certkeeper_endpoint_check_success", ep(first), 1},
		{"certkeeper_endpoint_check_success", ep(second), 0},
		{"certkeeper_endpoint_check_success", ep(dup), 0},
		{"certkeeper_endpoint_consecutive_failures", ep(second), 3},
		{"certkeeper_endpoint_leaf_not_after_seconds", ep(first), unix(leaf.NotAfter)},
		{"certkeeper_endpoint_leaf_lifetime_seconds", ep(first), leaf.NotAfter.Sub(leaf.NotBefore).Seconds()},
		{"certkeeper_endpoint_chain_earliest_not_after_seconds", ep(first), unix(inter.NotAfter)},
		{"certkeeper_endpoint_last_check_timestamp_seconds", ep(first), unix(checked)},
		{"certkeeper_endpoint_last_check_timestamp_seconds", ep(second), unix(checked.Add(time.Minute))},
		{"certkeeper_certificate_not_after_seconds", map[string]string{"definition": "shop",
			"common_name": "shop.example.test", "serial": hex.EncodeToString(leaf.SerialNumber.Bytes())}, unix(leaf.NotAfter)},
		{"certkeeper_certificate_not_before_seconds", map[string]string{"definition": "shop",
			"common_name": "shop.example.test", "serial": hex.EncodeToString(leaf.SerialNumber.Bytes())}, unix(leaf.NotBefore)},
		{"certkeeper_alerts_firing", map[string]string{"rule": "expiry"}, 2},
		{"certkeeper_alerts_firing", map[string]string{"rule": "check-failed"}, 0},
		{"certkeeper_job_runs_total", map[string]string{"job": "monitor", "result": "ok"}, 5},
		{"certkeeper_job_runs_total", map[string]string{"job": "monitor", "result": "error"}, 1},
		{"certkeeper_scheduler_leader", map[string]string{}, 1},
		{"certkeeper_scrape_error", map[string]string{"source": "endpoints"}, 0},
		{"certkeeper_scrape_error", map[string]string{"source": "certificates"}, 0},
		{"certkeeper_scrape_dropped_items", map[string]string{"source": "endpoints"}, 0},
	})
	if n := series(fams, "certkeeper_endpoint_check_success"); n != 3 {
		t.Errorf("check_success has %d series, want 3 (the pending endpoint has none)", n)
	}
	if n := series(fams, "certkeeper_endpoint_leaf_not_after_seconds"); n != 1 {
		t.Errorf("leaf_not_after has %d series, want 1 (only the observed endpoint served a leaf)", n)
	}
	if fams["certkeeper_job_runs_total"].GetType() != dto.MetricType_COUNTER {
		t.Errorf("job_runs_total is a %v, want a counter", fams["certkeeper_job_runs_total"].GetType())
	}
	if !strings.Contains(text, "# HELP certkeeper_endpoint_check_success ") {
		t.Errorf("page lacks the HELP lines:\n%s", text)
	}
}

// TestFailingSource: a source that fails, or does not answer within the
// timeout, gives its scrape-error metric; the others are still served.
func TestFailingSource(t *testing.T) {
	e := metrics.New(metrics.Sources{
		Endpoints: func(ctx context.Context) ([]inventory.Endpoint, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
		Certificates: func(context.Context) ([]inventory.DefinitionCertificate, error) {
			return nil, errors.New("database is closed")
		},
		Alerts: func(context.Context) (map[string]int, error) { return map[string]int{"expiry": 1}, nil },
		Leader: func() bool { return false },
	}, metrics.Config{Timeout: 200 * time.Millisecond})
	_, fams := scrape(t, e.Handler())
	checkValues(t, fams, []want{
		{"certkeeper_scrape_error", map[string]string{"source": "endpoints"}, 1},
		{"certkeeper_scrape_error", map[string]string{"source": "certificates"}, 1},
		{"certkeeper_scrape_error", map[string]string{"source": "alerts"}, 0},
		{"certkeeper_alerts_firing", map[string]string{"rule": "expiry"}, 1},
		{"certkeeper_scheduler_leader", map[string]string{}, 0},
	})
	for _, name := range []string{"certkeeper_endpoint_check_success", "certkeeper_certificate_not_after_seconds", "certkeeper_job_runs_total"} {
		if n := series(fams, name); n != 0 {
			t.Errorf("%s has %d series, want none", name, n)
		}
	}
}

// TestSeriesCap: past MaxSeries items a source's series are dropped and
// counted; label values are cut to a bounded length.
func TestSeriesCap(t *testing.T) {
	now := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	var eps []inventory.Endpoint
	for i := range 5 {
		eps = append(eps, inventory.Endpoint{ID: int64(i + 1), Address: "127.0.0." + string(rune('1'+i)) + ":443",
			Last: &inventory.EndpointResult{Check: inventory.CheckResult{Time: now, Passed: true}}})
	}
	long := "a" + strings.Repeat("é", 300) // sorts first, so it is kept
	e := metrics.New(metrics.Sources{
		Endpoints: func(context.Context) ([]inventory.Endpoint, error) { return eps, nil },
		Alerts:    func(context.Context) (map[string]int, error) { return map[string]int{long: 1, "b": 1, "c": 1}, nil },
	}, metrics.Config{MaxSeries: 2})
	_, fams := scrape(t, e.Handler())
	checkValues(t, fams, []want{
		{"certkeeper_endpoint_check_success", ep("127.0.0.1:443"), 1},
		{"certkeeper_endpoint_check_success", ep("127.0.0.2:443"), 1},
		{"certkeeper_scrape_dropped_items", map[string]string{"source": "endpoints"}, 3},
		{"certkeeper_scrape_dropped_items", map[string]string{"source": "alerts"}, 1},
	})
	if n := series(fams, "certkeeper_endpoint_check_success"); n != 2 {
		t.Errorf("check_success has %d series, want 2", n)
	}
	if n := series(fams, "certkeeper_alerts_firing"); n != 2 {
		t.Errorf("alerts_firing has %d series, want 2", n)
	}
	cut := "a" + strings.Repeat("é", 127) // 255 bytes: a whole rune past it would pass 256
	checkValues(t, fams, []want{{"certkeeper_alerts_firing", map[string]string{"rule": cut}, 1}})
}
