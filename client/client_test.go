package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://localhost:8080", true}, {"https://ck.example.com/base/", true},
		{"localhost:8080", false}, {"ftp://x", false}, {"", false},
	} {
		if _, err := New(tc.url, "ck_x"); (err == nil) != tc.ok {
			t.Errorf("New(%q) = %v, want ok %t", tc.url, err, tc.ok)
		}
	}
}

// TestErrors checks how error responses become *Error: a problem
// document as sent, anything else (a proxy's page) as its status, in one
// line.
func TestErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/me") {
			http.Error(w, "bad gateway\nupstream down", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusConflict)
		w.Write([]byte(`{"type":"about:blank","title":"Conflict","status":409,"detail":"definition \"a\" exists"}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL+"/", "ck_x", WithUserAgent("test"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetDefinition(context.Background(), 1)
	if !IsConflict(err) || err.Error() != `certkeeper: 409 Conflict: definition "a" exists` {
		t.Errorf("problem error = %v, want 409 with the detail", err)
	}
	_, err = c.Me(context.Background())
	if StatusCode(err) != http.StatusBadGateway || strings.Contains(err.Error(), "\n") {
		t.Errorf("non-problem error = %q, want a one-line 502", err)
	}
}
