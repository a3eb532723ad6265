package api_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/users"
)

// TestUnlockAndTokenPolicy: an admin ends a user's sign-in backoff and
// sets the maximum token lifetime, which caps new and listed tokens.
func TestUnlockAndTokenPolicy(t *testing.T) {
	e := newEnv(t, openSQLite)
	ctx := context.Background()
	for range 6 {
		e.users.Login(ctx, "bob", "not bob's password", "192.0.2.9", "")
	}
	if _, _, err := e.users.Login(ctx, "bob", "correct horse battery bob", "192.0.2.9", ""); !errors.Is(err, users.ErrBackoff) {
		t.Fatalf("sign-in after six failures: %v, want ErrBackoff", err)
	}
	me, err := e.user.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.admin.UnlockUser(ctx, me.ID)
	if err != nil || got.Cleared != 2 {
		t.Fatalf("UnlockUser = %+v, %v; want 2 records cleared", got, err)
	}
	if _, _, err := e.users.Login(ctx, "bob", "correct horse battery bob", "192.0.2.9", ""); err != nil {
		t.Fatalf("sign-in after unlock: %v", err)
	}

	if p, err := e.user.TokenPolicy(ctx); err != nil || p.MaxLifetime != "" {
		t.Fatalf("TokenPolicy = %+v, %v; want no maximum", p, err)
	}
	if _, err := e.admin.SetTokenPolicy(ctx, client.TokenPolicy{MaxLifetime: "soon"}); !isField(err, "max_lifetime") {
		t.Errorf("SetTokenPolicy(soon) = %v, want a 422 on max_lifetime", err)
	}
	if p, err := e.admin.SetTokenPolicy(ctx, client.TokenPolicy{MaxLifetime: "720h"}); err != nil || p.MaxLifetime != "720h0m0s" {
		t.Fatalf("SetTokenPolicy = %+v, %v", p, err)
	}
	if _, err := e.user.CreateToken(ctx, client.NewToken{Name: "long", TTL: "721h"}); !isField(err, "ttl") {
		t.Errorf("CreateToken over the maximum = %v, want a 422 on ttl", err)
	}
	list, err := e.user.ListTokens(ctx)
	if err != nil || len(list.Items) != 1 || list.Items[0].ExpiresAt == nil {
		t.Fatalf("ListTokens = %+v, %v; want the older token with its capped expiry", list, err)
	}
	if want := list.Items[0].CreatedAt.Add(720 * time.Hour); !list.Items[0].ExpiresAt.Equal(want) {
		t.Errorf("listed expiry %v, want %v", list.Items[0].ExpiresAt, want)
	}
}

func isField(err error, field string) bool {
	var ce *client.Error
	return errors.As(err, &ce) && ce.Problem.Status == http.StatusUnprocessableEntity &&
		len(ce.Problem.Errors) == 1 && ce.Problem.Errors[0].Field == field
}

// TestHashingBusy: when no hashing slot comes free in time, a request
// that hashes a password gets 429 with Retry-After, not a pile-up.
func TestHashingBusy(t *testing.T) {
	e := newEnv(t, openSQLite)
	e.users.Params = users.DefaultParams
	e.users.LimitHashing(1, time.Millisecond)
	var mu sync.Mutex
	var statuses []string
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			body := `{"username":"u` + string(rune('a'+i)) + `","role":"user","password":"correct horse battery staple"}`
			resp, b := e.raw("POST", "/api/v1/users", e.adminToken, "application/json", []byte(body))
			mu.Lock()
			defer mu.Unlock()
			statuses = append(statuses, resp.Status+" retry-after="+resp.Header.Get("Retry-After")+" "+string(b))
		})
	}
	wg.Wait()
	joined := strings.Join(statuses, "\n")
	if !strings.Contains(joined, "429 Too Many Requests retry-after=2") || !strings.Contains(joined, "201 Created") {
		t.Errorf("four users created at once through one slot:\n%s\nwant some 201 and some 429 with Retry-After 2", joined)
	}
}
