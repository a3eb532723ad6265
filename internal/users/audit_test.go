package users

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestChangeNotKeptWithoutItsAudit: a user change whose audit event
// cannot be stored is not stored either.
func TestChangeNotKeptWithoutItsAudit(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.svc.Create(ctx, "cli:root", "root", inventory.RoleAdmin, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Create(ctx, "cli:root", "frank", inventory.RoleUser, ""); err != nil {
		t.Fatal(err)
	}
	secret, tok, err := f.svc.CreateToken(ctx, "cli:root", "frank", "ci", 0)
	if err != nil {
		t.Fatal(err)
	}
	refusing := New(testenv.RefusingAudit{Store: f.st}, f.clock.now, nil)
	refusing.Params = cheap
	for name, do := range map[string]func() error{
		"create":  func() error { _, err := refusing.Create(ctx, "cli:root", "gina", inventory.RoleUser, ""); return err },
		"role":    func() error { return refusing.SetRole(ctx, "cli:root", "frank", inventory.RoleAdmin) },
		"disable": func() error { return refusing.Disable(ctx, "cli:root", "frank") },
		"reset":   func() error { _, err := refusing.ResetPassword(ctx, "cli:root", "frank"); return err },
		"token":   func() error { _, _, err := refusing.CreateToken(ctx, "cli:root", "frank", "new", 0); return err },
		"revoke":  func() error { return refusing.RevokeToken(ctx, "cli:root", tok.ID) },
		"policy": func() error {
			return refusing.SetTokenPolicy(ctx, "cli:root", TokenPolicy{MaxLifetime: 30 * 24 * time.Hour})
		},
	} {
		if err := do(); !errors.Is(err, testenv.ErrAuditRefused) {
			t.Errorf("%s with the audit refused = %v, want the refusal", name, err)
		}
	}
	list, err := f.svc.List(ctx)
	if err != nil || len(list) != 2 || list[1].Role != inventory.RoleUser || list[1].Disabled || list[1].CredentialGen != 0 {
		t.Errorf("users after refused audits = %+v, %v; want root and frank unchanged", list, err)
	}
	if _, _, err := f.svc.AuthenticateToken(ctx, secret); err != nil {
		t.Errorf("frank's token after refused audits: %v, want it still valid", err)
	}
	if toks, err := f.svc.ListTokens(ctx, "frank"); err != nil || len(toks) != 1 {
		t.Errorf("frank's tokens after refused audits = %+v, %v; want the one", toks, err)
	}
	if p, err := f.svc.TokenPolicy(ctx); err != nil || p.MaxLifetime != 0 {
		t.Errorf("token policy after a refused audit = %+v, %v; want none", p, err)
	}
}
