package client

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestSettingsRequests checks what the settings methods send: only the
// fields an update sets (an empty password included) and never the
// read-only caller of an allow-list.
func TestSettingsRequests(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+string(b))
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL, "ck_x")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	host, empty := "smtp.example.com:587", ""
	calls := []func() error{
		func() error { _, err := c.GetSettings(ctx); return err },
		func() error {
			_, err := c.UpdateSettings(ctx, SettingsUpdate{SMTPHost: &host, SMTPPassword: &empty})
			return err
		},
		func() error { _, err := c.SendTestEmail(ctx, TestEmail{To: "ops@example.com"}); return err },
		func() error { _, err := c.ListEmails(ctx, Page{Limit: 10, After: "abc"}); return err },
		func() error { _, err := c.GetAllowList(ctx); return err },
		func() error {
			_, err := c.UpdateAllowList(ctx, AllowList{Prefixes: []string{"10.0.0.0/8"}, Caller: "192.0.2.1"})
			return err
		},
	}
	for _, call := range calls {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"GET /api/v1/settings ",
		`PUT /api/v1/settings {"smtp_host":"smtp.example.com:587","smtp_password":""}`,
		`POST /api/v1/settings/test-email {"to":"ops@example.com"}`,
		"GET /api/v1/emails?after=abc&limit=10 ",
		"GET /api/v1/allowlist ",
		`PUT /api/v1/allowlist {"prefixes":["10.0.0.0/8"]}`,
	}
	if len(got) != len(want) {
		t.Fatalf("requests %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d = %q, want %q", i, got[i], want[i])
		}
	}
}
