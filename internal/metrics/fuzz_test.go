package metrics_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/metrics"
)

// FuzzLabels: whatever names endpoints, definitions and rules carry
// (they come from users and from servers), the page parses and holds
// every series, each label value valid UTF-8 of at most 256 bytes.
func FuzzLabels(f *testing.F) {
	for _, seed := range [][3]string{
		{"127.0.0.1:443", "shop.example.test", "expiry"},
		{"[::1]:443", "", "rule \"quoted\"\nnext"},
		{"\xff\xfe:1", strings.Repeat("é", 200), strings.Repeat("x", 300)},
		{"", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	at := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, addr, name, rule string) {
		e := metrics.New(metrics.Sources{
			Endpoints: func(context.Context) ([]inventory.Endpoint, error) {
				return []inventory.Endpoint{
					{ID: 1, Address: addr, ServerName: name, Last: &inventory.EndpointResult{Check: inventory.CheckResult{Time: at}}},
					{ID: 2, Address: addr, ServerName: name, Last: &inventory.EndpointResult{Check: inventory.CheckResult{Time: at}}},
				}, nil
			},
			Certificates: func(context.Context) ([]inventory.DefinitionCertificate, error) {
				return []inventory.DefinitionCertificate{{DefinitionID: 1, Definition: name, CommonName: rule, Serial: addr, NotAfter: at}}, nil
			},
			Alerts: func(context.Context) (map[string]int, error) { return map[string]int{rule: 1}, nil },
		}, metrics.Config{})
		rec := httptest.NewRecorder()
		e.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
		if err != nil {
			t.Fatalf("page does not parse: %v\n%s", err, rec.Body.String())
		}
		for name, want := range map[string]int{"certkeeper_endpoint_check_success": 2,
			"certkeeper_certificate_not_after_seconds": 1, "certkeeper_alerts_firing": 1} {
			if got := len(fams[name].GetMetric()); got != want {
				t.Fatalf("%s has %d series, want %d:\n%s", name, got, want, rec.Body.String())
			}
			for _, m := range fams[name].GetMetric() {
				for _, l := range m.GetLabel() {
					if v := l.GetValue(); len(v) > 256 || !model.LabelValue(v).IsValid() {
						t.Fatalf("%s label %s = %q: want valid UTF-8 of bounded length", name, l.GetName(), v)
					}
				}
			}
		}
	})
}
