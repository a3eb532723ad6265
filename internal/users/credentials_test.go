package users

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestTrustEndsCredentials: disabling, an admin's password reset and
// signing out everywhere end the user's sessions and API tokens, and
// enabling the user again revives none of them.
func TestTrustEndsCredentials(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		end  func(f *fixture) error
	}{
		{"disable", func(f *fixture) error { return f.svc.Disable(ctx, "user:root", "frank") }},
		{"reset", func(f *fixture) error { _, err := f.svc.ResetPassword(ctx, "user:root", "frank"); return err }},
		{"everywhere", func(f *fixture) error {
			u, err := f.st.UserByName(ctx, "frank")
			if err == nil {
				_, err = f.svc.LogoutEverywhere(ctx, "user:frank", u)
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			token, _ := withToken(t, f, 0)
			_, session, err := f.svc.Login(ctx, "frank", "correct horse battery", "10.0.0.1", "")
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.end(f); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if tc.name == "disable" {
				if err := f.svc.Enable(ctx, "user:root", "frank"); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := f.svc.AuthenticateToken(ctx, token); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("old token after %s: %v, want ErrInvalidToken", tc.name, err)
			}
			if _, _, err := f.svc.Session(ctx, session); !errors.Is(err, ErrNoSession) {
				t.Errorf("old session after %s: %v, want ErrNoSession", tc.name, err)
			}
			if list, err := f.svc.ListTokens(ctx, "frank"); err != nil || len(list) != 0 {
				t.Errorf("tokens listed after %s: %d, %v; want none", tc.name, len(list), err)
			}
			// New credentials work.
			secret, _, err := f.svc.CreateToken(ctx, "user:root", "frank", "new", 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := f.svc.AuthenticateToken(ctx, secret); err != nil {
				t.Errorf("new token after %s: %v", tc.name, err)
			}
			if text := f.auditText(t); !strings.Contains(text, "1 sessions and 1 API tokens ended") {
				t.Errorf("audit does not say what ended:\n%s", text)
			}
		})
	}
}

// TestOwnPasswordChangeKeepsTokens: a user changing their own password
// ends their other sessions but keeps their API tokens.
func TestOwnPasswordChangeKeepsTokens(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	token, _ := withToken(t, f, 0)
	u, _, err := f.svc.Login(ctx, "frank", "correct horse battery", "10.0.0.1", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ChangePassword(ctx, u, "correct horse battery", "another horse battery", 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.AuthenticateToken(ctx, token); err != nil {
		t.Errorf("token after the owner's password change: %v", err)
	}
}

func TestTokenPolicy(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old, _ := withToken(t, f, 0)
	if p, err := f.svc.TokenPolicy(ctx); err != nil || p.MaxLifetime != 0 {
		t.Fatalf("TokenPolicy before any is set = %+v, %v; want no cap", p, err)
	}
	for _, bad := range []time.Duration{-time.Hour, time.Second, 90*time.Minute + time.Millisecond} {
		var fe *inventory.FieldError
		if err := f.svc.SetTokenPolicy(ctx, "user:root", TokenPolicy{MaxLifetime: bad}); !errors.As(err, &fe) || fe.Field != "max_lifetime" {
			t.Errorf("SetTokenPolicy(%s) = %v, want a max_lifetime field error", bad, err)
		}
	}
	if err := f.svc.SetTokenPolicy(ctx, "user:root", TokenPolicy{MaxLifetime: 30 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	var fe *inventory.FieldError
	if _, _, err := f.svc.CreateToken(ctx, "user:root", "frank", "long", 31*24*time.Hour); !errors.As(err, &fe) || fe.Field != "ttl" {
		t.Errorf("CreateToken over the maximum = %v, want a ttl field error", err)
	}
	_, tok, err := f.svc.CreateToken(ctx, "user:root", "frank", "default", 0)
	if want := f.clock.t.Add(30 * 24 * time.Hour); err != nil || tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(want) {
		t.Errorf("CreateToken without ttl = %+v, %v; want expiry %v", tok, err, want)
	}
	// The older token without expiry stops at created + maximum.
	f.clock.t = f.clock.t.Add(30*24*time.Hour - time.Second)
	if _, _, err := f.svc.AuthenticateToken(ctx, old); err != nil {
		t.Errorf("old token within the maximum: %v", err)
	}
	f.clock.t = f.clock.t.Add(time.Second)
	if _, _, err := f.svc.AuthenticateToken(ctx, old); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("old token past the maximum: %v, want ErrInvalidToken", err)
	}
	if text := f.auditText(t); !strings.Contains(text, "settings.token_policy settings:token-policy maximum API token lifetime 720h0m0s") {
		t.Errorf("audit lacks the policy change:\n%s", text)
	}
}
