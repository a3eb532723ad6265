package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var userContractCases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"Users", testUsers},
	{"UserConflict", testUserConflict},
	{"UserNotFound", testUserNotFound},
	{"Tokens", testTokens},
	{"TokenErrors", testTokenErrors},
}

// TestUserStoreContract runs the inventory.UserStore contract against
// every backend.
func TestUserStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range userContractCases {
				t.Run(tc.name, func(t *testing.T) {
					loc := b.fresh(t)
					tc.run(t, &env{b: b, loc: loc, s: openStore(t, b, loc)})
				})
			}
		})
	}
}

// putUser stores a user named name and returns it.
func putUser(t *testing.T, s inventory.Store, name string) *inventory.User {
	t.Helper()
	u := &inventory.User{Username: name, Role: inventory.RoleUser, PasswordHash: "$argon2id$test", MustChangePassword: true}
	if err := s.PutUser(context.Background(), u); err != nil {
		t.Fatalf("PutUser(%s): %v", name, err)
	}
	if u.ID == 0 || u.CreatedAt.IsZero() || u.UpdatedAt.IsZero() {
		t.Fatalf("PutUser left ID %d, CreatedAt %v, UpdatedAt %v", u.ID, u.CreatedAt, u.UpdatedAt)
	}
	return u
}

func testUsers(t *testing.T, e *env) {
	ctx := context.Background()
	alice := putUser(t, e.s, "Alice")
	bob := putUser(t, e.s, "bob")
	got, err := e.s.UserByName(ctx, "ALICE")
	if err != nil {
		t.Fatalf("UserByName(ALICE): %v", err)
	}
	if diff := cmp.Diff(alice, got); diff != "" {
		t.Errorf("UserByName (-stored +got):\n%s", diff)
	}
	alice.Role, alice.PasswordHash, alice.MustChangePassword, alice.Disabled = inventory.RoleAdmin, "$argon2id$new", false, true
	alice.UpdatedAt = alice.CreatedAt.Add(time.Hour)
	if err := e.s.UpdateUser(ctx, alice); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	got, err = e.s.GetUser(ctx, alice.ID)
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	if diff := cmp.Diff(alice, got); diff != "" {
		t.Errorf("GetUser after update (-want +got):\n%s", diff)
	}
	list, err := e.s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if diff := cmp.Diff([]inventory.User{*alice, *bob}, list); diff != "" {
		t.Errorf("ListUsers (-want +got):\n%s", diff)
	}
}

func testUserConflict(t *testing.T, e *env) {
	putUser(t, e.s, "carol")
	for _, name := range []string{"carol", "Carol", "CAROL"} {
		u := &inventory.User{Username: name, Role: inventory.RoleUser, PasswordHash: "x"}
		if err := e.s.PutUser(context.Background(), u); !errors.Is(err, inventory.ErrConflict) {
			t.Errorf("PutUser(%s) = %v, want ErrConflict", name, err)
		}
	}
}

func testUserNotFound(t *testing.T, e *env) {
	ctx := context.Background()
	_, err1 := e.s.GetUser(ctx, 42)
	_, err2 := e.s.UserByName(ctx, "nobody")
	err3 := e.s.UpdateUser(ctx, &inventory.User{ID: 42, Role: inventory.RoleUser})
	for i, err := range []error{err1, err2, err3} {
		if !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("call %d: err = %v, want ErrNotFound", i+1, err)
		}
	}
}

func testTokens(t *testing.T, e *env) {
	ctx := context.Background()
	u := putUser(t, e.s, "dave")
	exp := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second)
	tok := &inventory.APIToken{UserID: u.ID, Name: "ci", Hash: "ab12", Prefix: "ck_ABCD", ExpiresAt: &exp}
	if err := e.s.PutToken(ctx, tok); err != nil {
		t.Fatalf("PutToken: %v", err)
	}
	used := tok.CreatedAt.Add(time.Minute)
	if err := e.s.TouchToken(ctx, tok.ID, used); err != nil {
		t.Fatalf("TouchToken: %v", err)
	}
	tok.LastUsedAt = &used
	got, err := e.s.TokenByHash(ctx, "ab12")
	if err != nil {
		t.Fatalf("TokenByHash: %v", err)
	}
	if diff := cmp.Diff(tok, got); diff != "" {
		t.Errorf("TokenByHash (-want +got):\n%s", diff)
	}
	other := &inventory.APIToken{UserID: u.ID, Name: "laptop", Hash: "cd34", Prefix: "ck_EFGH"}
	if err := e.s.PutToken(ctx, other); err != nil {
		t.Fatalf("PutToken: %v", err)
	}
	checkTokens(t, e.s, u.ID, []inventory.APIToken{*tok, *other})
	if err := e.s.DeleteToken(ctx, tok.ID); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	checkTokens(t, e.s, u.ID, []inventory.APIToken{*other})
	if _, err := e.s.TokenByHash(ctx, "ab12"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("TokenByHash after delete = %v, want ErrNotFound", err)
	}
}

func checkTokens(t *testing.T, s inventory.Store, userID int64, want []inventory.APIToken) {
	t.Helper()
	got, err := s.ListTokens(context.Background(), userID)
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListTokens (-want +got):\n%s", diff)
	}
}

func testTokenErrors(t *testing.T, e *env) {
	ctx := context.Background()
	u := putUser(t, e.s, "erin")
	if err := e.s.PutToken(ctx, &inventory.APIToken{UserID: u.ID, Name: "a", Hash: "h1"}); err != nil {
		t.Fatalf("PutToken: %v", err)
	}
	if err := e.s.PutToken(ctx, &inventory.APIToken{UserID: u.ID, Name: "b", Hash: "h1"}); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("PutToken(same hash) = %v, want ErrConflict", err)
	}
	if err := e.s.PutToken(ctx, &inventory.APIToken{UserID: 999, Name: "c", Hash: "h2"}); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("PutToken(unknown user) = %v, want ErrNotFound", err)
	}
	if err := e.s.DeleteToken(ctx, 999); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("DeleteToken(999) = %v, want ErrNotFound", err)
	}
	if err := e.s.TouchToken(ctx, 999, time.Now()); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("TouchToken(999) = %v, want ErrNotFound", err)
	}
}
