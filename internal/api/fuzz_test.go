package api_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/api"
	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/stack/stacktest"
)

// FuzzListQuery sends arbitrary query strings to the list endpoints over a
// real SQLite inventory holding a few certificates: filters, cursors and
// search texts (which reach the FTS5 trigram index) must give a list or a
// client error, never a server error or a malformed body.
func FuzzListQuery(f *testing.F) {
	s := stacktest.New(f, nil, stack.Config{Log: slog.New(slog.DiscardHandler)})
	auth := s.Authority
	if _, _, err := auth.EnsureDefault(f.Context()); err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{"www.example.test", "api.shop.example", "mail.example.org"} {
		r := ca.Request{Requester: ca.Admin("test"), Profile: ca.TLSServer, DNSNames: []string{name}, Labels: []string{"prod"}}
		if _, err := auth.Issue(f.Context(), r); err != nil {
			f.Fatal(err)
		}
	}
	h := s.API.Handler()

	for _, seed := range []string{
		"q=example", "q=%22*%28-:", "q=ex%25am_ple", "status=valid&label=prod&limit=1",
		"expiring_within=30", "expiring_within=720h", "after=bm90IGEgY3Vyc29y", "limit=-1", "ca=maybe",
		"state=open", "state=csr_ready,ordered&definition_id=1", "key_id=x",
	} {
		f.Add("/api/v1/certificates", seed)
		f.Add("/api/v1/acquisitions", seed)
	}
	f.Fuzz(func(t *testing.T, path, query string) {
		switch path {
		case "/api/v1/certificates", "/api/v1/acquisitions", "/api/v1/definitions", "/api/v1/keys", "/api/v1/audit":
		default:
			path = "/api/v1/certificates"
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path, req.URL.RawQuery = path, query
		req = req.WithContext(api.WithLocalAdmin(req.Context(), "fuzz"))
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { defer close(done); h.ServeHTTP(rec, req) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("GET %s?%s did not answer within 10 s", path, query)
		}
		if rec.Code >= 500 || (rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest && rec.Code != http.StatusUnprocessableEntity) {
			t.Fatalf("GET %s?%q = %d: %s", path, query, rec.Code, rec.Body.Bytes())
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("GET %s?%q: body is not JSON: %v", path, query, err)
		}
	})
}
