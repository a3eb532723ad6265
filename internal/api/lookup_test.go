package api_test

import (
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/client"
)

func testDefinitionByName(t *testing.T, e *env) {
	for _, name := range []string{"shop", "shop-test"} {
		if _, err := e.user.CreateDefinition(ctx, newDefinition(name)); err != nil {
			t.Fatal(err)
		}
	}
	d, err := e.user.DefinitionByName(ctx, "shop")
	if err != nil || d.Name != "shop" || d.Version != 1 {
		t.Errorf("DefinitionByName(shop) = %+v, %v", d, err)
	}
	if _, err := e.user.DefinitionByName(ctx, "sho"); !client.IsNotFound(err) || !strings.Contains(err.Error(), `no definition "sho"`) {
		t.Errorf("DefinitionByName(sho) = %v, want not found", err)
	}
	l, err := e.user.ListDefinitions(ctx, client.DefinitionQuery{Name: "nothing"})
	if err != nil || l.Items == nil || len(l.Items) != 0 {
		t.Errorf("ListDefinitions(name nothing) = %+v, %v; want an empty list", l, err)
	}
}

func testUserByName(t *testing.T, e *env) {
	u, err := e.admin.UserByName(ctx, "BOB")
	if err != nil || u.Username != "bob" || u.Role != "user" {
		t.Errorf("UserByName(BOB) = %+v, %v; want bob", u, err)
	}
	if _, err := e.admin.UserByName(ctx, "nobody"); !client.IsNotFound(err) {
		t.Errorf("UserByName(nobody) = %v, want not found", err)
	}
	if _, err := e.user.UserByName(ctx, "bob"); !client.IsForbidden(err) {
		t.Errorf("UserByName as user = %v, want 403", err)
	}
}

func testUserTokens(t *testing.T, e *env) {
	bob, err := e.admin.UserByName(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.admin.CreateUserToken(ctx, bob.ID, client.NewToken{Name: "deploy", TTL: "1h"})
	if err != nil || tok.Token.UserID != bob.ID || tok.Token.ExpiresAt == nil {
		t.Fatalf("CreateUserToken = %+v, %v", tok, err)
	}
	if me, err := e.client(tok.Secret).Me(ctx); err != nil || me.Username != "bob" {
		t.Errorf("Me with the token made for bob = %+v, %v", me, err)
	}
	l, err := e.admin.ListUserTokens(ctx, bob.ID)
	if err != nil || len(l.Items) != 2 || l.Items[1].ID != tok.Token.ID {
		t.Errorf("ListUserTokens(bob) = %+v, %v; want his two tokens", l, err)
	}
	if _, err := e.user.CreateUserToken(ctx, bob.ID, client.NewToken{Name: "x"}); !client.IsForbidden(err) {
		t.Errorf("CreateUserToken as user = %v, want 403", err)
	}
	if _, err := e.admin.ListUserTokens(ctx, 999999); !client.IsNotFound(err) {
		t.Errorf("ListUserTokens(999999) = %v, want 404", err)
	}
	if e.rec.contains(`"hash"`) {
		t.Error("a response holds a token hash")
	}
	evs, err := e.admin.ListAudit(ctx, client.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, ev := range evs.Items {
		if strings.Contains(ev.Summary, tok.Secret[len(tok.Token.Prefix):]) {
			t.Errorf("audit event %+v holds the token secret", ev)
		}
		found = found || (ev.Action == "token.create" && ev.Actor == "user:ada" && strings.Contains(ev.Summary, "for bob"))
	}
	if !found {
		t.Errorf("no token.create event by user:ada for bob in %+v", evs.Items)
	}
}
