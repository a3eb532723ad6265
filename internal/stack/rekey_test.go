package stack_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/notify"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/stack/stacktest"
)

// TestRekeyRewrapsChannelSecrets: after a master-key rotation a channel's
// secret is sealed anew, opens under the new key only, and still signs
// the webhook with the secret the admin gave.
func TestRekeyRewrapsChannelSecrets(t *testing.T) {
	ctx := context.Background()
	keyFile := filepath.Join(t.TempDir(), "master.key")
	old, err := keys.LoadSealer(keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	st := stacktest.OpenSQLite(t)
	cfg := stack.Config{PasswordParams: stacktest.FastPasswords(), Log: stacktest.Logger(t)}
	s, err := stack.New(ctx, st, old, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var bodies [][]byte
	var sigs []string
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies, sigs = append(bodies, b), append(sigs, r.Header.Get(notify.SignatureHeader))
		mu.Unlock()
	}))
	defer rx.Close()
	const secret = "rotate-me-not"
	admin := ca.Requester{Name: "cli:root", Role: inventory.RoleAdmin}
	if _, err := s.Notify.Add(ctx, admin, notify.ChannelInput{Name: "ops", URL: rx.URL, Secret: secret}); err != nil {
		t.Fatal(err)
	}
	before, _ := st.ChannelByName(ctx, "ops")
	if _, err := s.Rekey(ctx, keyFile, "cli:root"); err != nil {
		t.Fatalf("Rekey: %v", err)
	}
	after, _ := st.ChannelByName(ctx, "ops")
	if bytes.Equal(before.SealedSecret, after.SealedSecret) {
		t.Fatal("the channel secret was not rewrapped")
	}
	fresh, err := keys.LoadSealer(keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Opens(after.SealedSecret); err == nil {
		t.Error("the old master key still opens the rewrapped secret")
	}
	s2, err := stack.New(ctx, st, fresh, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s2.Notify.Test(ctx, admin, "ops")
	if err != nil || rec.Status != inventory.NotificationSent {
		t.Fatalf("Test after rekey = %+v, %v", rec, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if _, ok := notify.Verify([]byte(secret), sigs[0], bodies[0]); !ok {
		t.Errorf("after rekey the webhook is not signed with the secret given (%q)", sigs[0])
	}
}
