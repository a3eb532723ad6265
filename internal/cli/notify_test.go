package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/notify"
)

// TestNotifyCommands adds a signed webhook channel from a secret file,
// tests it against a real receiver, lists it without its secret, lists
// what was sent and removes it.
func TestNotifyCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	const secret = "cli-hook-secret-77"
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var sigs, bodies []string
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		sigs, bodies = append(sigs, r.Header.Get(notify.SignatureHeader)), append(bodies, string(b))
		mu.Unlock()
	}))
	defer rx.Close()

	r := run(t, dir, nil, "notify", "add", "--name", "ops", "--webhook", rx.URL+"/hook", "--secret-file", secretFile)
	want{outHas: []string{"added channel ops (generic, " + rx.URL + "/…, secret set)"}}.verify(t, r)
	r = run(t, dir, nil, "notify", "add", "--name", "chat", "--webhook", "gopher://x", "--format", "slack")
	want{errHas: "must start with https:// or http://"}.verify(t, r)
	r = run(t, dir, nil, "notify", "test", "ops")
	want{outHas: []string{"test notification sent on ops (HTTP 200, 1 attempt(s))"}}.verify(t, r)
	mu.Lock()
	if len(sigs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(sigs))
	}
	if _, ok := notify.Verify([]byte(secret), sigs[0], []byte(bodies[0])); !ok {
		t.Error("the test notification's signature does not verify under the secret file's key")
	}
	mu.Unlock()

	r = run(t, dir, nil, "notify", "list", "--json")
	want{json: jsonLen("items", 1)}.verify(t, r)
	var list client.ChannelList
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || !list.Items[0].SecretSet {
		t.Errorf("notify list --json = %s (%v); want ops with its secret set", r.stdout, err)
	}
	r = run(t, dir, nil, "notify", "list")
	want{outHas: []string{"NAME", "ops", "generic", "set"}}.verify(t, r)
	r = run(t, dir, nil, "notify", "sent", "--json")
	want{json: jsonLen("items", 1)}.verify(t, r)
	r = run(t, dir, nil, "notify", "sent")
	want{outHas: []string{"ops", "test", "sent"}}.verify(t, r)
	r = run(t, dir, nil, "notify", "remove", "ops")
	want{outHas: []string{"removed channel ops"}}.verify(t, r)
	r = run(t, dir, nil, "notify", "test", "ops")
	want{errHas: "not found"}.verify(t, r)

	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusGone) }))
	defer dead.Close()
	run(t, dir, nil, "notify", "add", "--name", "gone", "--webhook", dead.URL)
	r = run(t, dir, nil, "notify", "test", "gone")
	want{errHas: "test notification on gone failed after 1 attempt(s): HTTP 410"}.verify(t, r)
	for _, args := range [][]string{{"notify", "list"}, {"notify", "sent"}, {"notify", "list", "--json"}, {"notify", "sent", "--json"}} {
		if out := run(t, dir, nil, args...); strings.Contains(out.stdout, secret) {
			t.Errorf("%v shows the secret:\n%s", args, out.stdout)
		}
	}
}
