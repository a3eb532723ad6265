package users

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// withToken makes user frank and a token for him expiring in ttl.
func withToken(t *testing.T, f *fixture, ttl time.Duration) (string, *inventory.APIToken) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.svc.Create(ctx, "cli:root", "frank", inventory.RoleUser, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	secret, tok, err := f.svc.CreateToken(ctx, "cli:root", "frank", "ci", ttl)
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	return secret, tok
}

func TestCreateToken(t *testing.T) {
	f := newFixture(t)
	secret, tok := withToken(t, f, 90*24*time.Hour)
	if !regexp.MustCompile(`^ck_[A-Za-z0-9_-]{43}$`).MatchString(secret) {
		t.Errorf("secret = %q, want ck_ and 43 base64url characters", secret)
	}
	if tok.Hash != TokenHash(secret) || !strings.HasPrefix(secret, tok.Prefix) || len(tok.Prefix) != 11 {
		t.Errorf("token = %+v, want the secret's SHA-256 and its first 11 characters", tok)
	}
	if want := f.clock.t.Add(90 * 24 * time.Hour); tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", tok.ExpiresAt, want)
	}
	list, err := f.svc.ListTokens(context.Background(), "frank")
	if err != nil || len(list) != 1 || list[0].ID != tok.ID {
		t.Errorf("ListTokens = %+v, %v; want the token", list, err)
	}
	if audit := f.auditText(t); strings.Contains(audit, secret) || strings.Contains(audit, tok.Hash) ||
		!strings.Contains(audit, "token.create") {
		t.Errorf("audit trail:\n%s\nwant token.create without the secret or hash", audit)
	}
}

func TestAuthenticateToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	secret, tok := withToken(t, f, time.Hour)
	u, got, err := f.svc.AuthenticateToken(ctx, secret)
	if err != nil || u.Username != "frank" || got.ID != tok.ID {
		t.Fatalf("AuthenticateToken = %+v, %+v, %v; want frank's token", u, got, err)
	}
	stored, err := f.st.TokenByHash(ctx, tok.Hash)
	if err != nil || stored.LastUsedAt == nil || !stored.LastUsedAt.Equal(f.clock.t) {
		t.Errorf("stored LastUsedAt = %v, %v; want %v", stored.LastUsedAt, err, f.clock.t)
	}
	first := f.clock.t
	for _, step := range []struct {
		after time.Duration
		want  time.Time
	}{
		{TouchInterval / 2, first},                              // too soon: not written again
		{TouchInterval / 2, first.Add(TouchInterval)},           // a full interval later: written
		{TouchInterval - time.Second, first.Add(TouchInterval)}, // too soon again
	} {
		f.clock.t = f.clock.t.Add(step.after)
		if _, _, err := f.svc.AuthenticateToken(ctx, secret); err != nil {
			t.Fatal(err)
		}
		stored, err := f.st.TokenByHash(ctx, tok.Hash)
		if err != nil || stored.LastUsedAt == nil || !stored.LastUsedAt.Equal(step.want) {
			t.Errorf("at %v: stored LastUsedAt = %v, %v; want %v", f.clock.t, stored.LastUsedAt, err, step.want)
		}
	}
	for _, bad := range []string{"", "ck_", secret + "x", strings.TrimPrefix(secret, "ck_")} {
		if _, _, err := f.svc.AuthenticateToken(ctx, bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("AuthenticateToken(%q) = %v, want ErrInvalidToken", bad, err)
		}
	}
}

func TestTokenRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		apply func(f *fixture, tok *inventory.APIToken) error
	}{
		{"expired", func(f *fixture, _ *inventory.APIToken) error { f.clock.t = f.clock.t.Add(time.Hour); return nil }},
		{"disabled user", func(f *fixture, _ *inventory.APIToken) error { return f.svc.Disable(ctx, "cli:root", "frank") }},
		{"revoked", func(f *fixture, tok *inventory.APIToken) error { return f.svc.RevokeToken(ctx, "cli:root", tok.ID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			secret, tok := withToken(t, f, time.Hour)
			if err := tc.apply(f, tok); err != nil {
				t.Fatal(err)
			}
			if _, _, err := f.svc.AuthenticateToken(ctx, secret); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("AuthenticateToken = %v, want ErrInvalidToken", err)
			}
		})
	}
}

func TestTokenErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	withToken(t, f, 0)
	if err := f.svc.RevokeToken(ctx, "cli:root", 999); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("RevokeToken(999) = %v, want ErrNotFound", err)
	}
	if _, _, err := f.svc.CreateToken(ctx, "cli:root", "nobody", "x", 0); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("CreateToken(nobody) = %v, want ErrNotFound", err)
	}
	if _, _, err := f.svc.CreateToken(ctx, "cli:root", "frank", " ", 0); err == nil {
		t.Error("CreateToken with a blank name succeeded, want an error")
	}
}

func TestRevokeOwnToken(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	_, tok := withToken(t, f, 0)
	if _, err := f.svc.Create(ctx, "cli:root", "gina", inventory.RoleUser, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	gina, err := f.svc.ByName(ctx, "gina")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RevokeOwnToken(ctx, "user:gina", gina, tok.ID); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("gina revoking frank's token: error = %v, want ErrNotFound", err)
	}
	if list, _ := f.svc.ListTokens(ctx, "frank"); len(list) != 1 {
		t.Fatalf("frank has %d tokens after gina's attempt, want 1", len(list))
	}
	frank, err := f.svc.ByName(ctx, "frank")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RevokeOwnToken(ctx, "user:frank", frank, tok.ID); err != nil {
		t.Fatalf("frank revoking his token: %v", err)
	}
	if list, _ := f.svc.ListTokens(ctx, "frank"); len(list) != 0 {
		t.Errorf("frank has %d tokens after revoking his own, want 0", len(list))
	}
	if list, err := f.svc.Tokens(ctx, 0); err != nil || len(list) != 0 {
		t.Errorf("Tokens(0) = %v, %v; want none", list, err)
	}
	if !strings.Contains(f.auditText(t), "user:frank token.revoke") {
		t.Errorf("audit trail:\n%s\nwant frank's token.revoke", f.auditText(t))
	}
}
