package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestServeMetrics: serve answers Prometheus on --metrics-listen, and
// the HTTPS /metrics refuses a request without an API token.
func TestServeMetrics(t *testing.T) {
	c := newCK(t)
	addr := freeAddr(t)
	s := serve(t, c, "--metrics-listen", addr)
	hc := &http.Client{Timeout: 10 * time.Second}
	var body string
	testenv.WaitFor(t, 30*time.Second, "the metrics listener to answer", func() bool {
		resp, err := hc.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK
	})
	if !strings.Contains(body, `certkeeper_scrape_error{source="certificates"} 0`) {
		t.Errorf("GET /metrics on --metrics-listen:\n%s", body)
	}
	resp, err := c.httpsClient(t).Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /metrics over HTTPS without a token = %d, want 401", resp.StatusCode)
	}
}
