package notify_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/notify"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

var (
	ctx    = context.Background()
	admin  = ca.Requester{Name: "user:root", Role: inventory.RoleAdmin}
	plain  = ca.Requester{Name: "user:bob", Role: inventory.RoleUser}
	testAt = time.Date(2026, 12, 8, 9, 30, 0, 0, time.UTC)
)

// env is the service over a real SQLite store, with its log kept.
type env struct {
	st    inventory.Store
	svc   *notify.Service
	log   *testenv.Buffer
	clock *testenv.Clock
}

func newEnv(t testing.TB, edit ...func(*notify.Options)) *env {
	t.Helper()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, err := keys.NewSealer(nil, bytes.Repeat([]byte{7}, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, log: &testenv.Buffer{}, clock: testenv.NewClock(testAt)}
	o := notify.Options{Now: e.clock.Now, Log: slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Backoff: time.Millisecond, Timeout: 5 * time.Second}
	for _, f := range edit {
		f(&o)
	}
	e.svc = notify.New(st, sealer, o)
	return e
}

// add stores a channel or fails the test.
func (e *env) add(t *testing.T, in notify.ChannelInput) *notify.ChannelView {
	t.Helper()
	c, err := e.svc.Add(ctx, admin, in)
	if err != nil {
		t.Fatalf("Add(%s): %v", in.Name, err)
	}
	return c
}

// sent returns every notification record, newest first.
func (e *env) sent(t *testing.T) []inventory.Notification {
	t.Helper()
	got, _, err := e.svc.Sent(ctx, inventory.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// request is one request a receiver got.
type request struct {
	header http.Header
	body   []byte
	path   string
}

// receiver is a real HTTP server on 127.0.0.1 that answers with the
// statuses it is given in turn (200 once they run out) and keeps every
// request.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	answer   string
	got      []request
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, request{header: req.Header.Clone(), body: body, path: req.URL.RequestURI()})
	status, answer := http.StatusOK, r.answer
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	r.mu.Unlock()
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

// notice is a firing alert sent to channels.
func notice(channels ...string) inventory.Notice {
	return inventory.Notice{Kind: inventory.NoticeFiring, Severity: inventory.SeverityCritical, Key: "alert-42",
		Subject: "shop.example.com: certificate expires in 3 days", Text: "The certificate served at shop.example.com:443 expires on 2026-12-11.\nRenew it.",
		Link: "https://ck.example.com/alerts/42", Channels: channels}
}
