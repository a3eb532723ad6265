package api_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/certkeeper/certkeeper/client"
)

func TestOutboundPolicyRoutes(t *testing.T) {
	e := newEnv(t, openSQLite)
	ctx := context.Background()
	got, err := e.user.GetOutboundPolicy(ctx)
	if err != nil {
		t.Fatalf("a user reads the policy: %v", err)
	}
	if len(got.Allow)+len(got.Deny) != 0 || !slices.Contains(got.BuiltinDenied, "169.254.0.0/16") {
		t.Fatalf("default policy = %+v; want empty lists and the built-in denials", got)
	}
	want := client.OutboundPolicy{Allow: []string{"10.0.0.0/8:443,8443"}, Deny: []string{"10.9.0.0/16"}}
	var ce *client.Error
	if _, err := e.user.SetOutboundPolicy(ctx, want); !errors.As(err, &ce) || ce.Problem.Status != http.StatusForbidden {
		t.Fatalf("a user sets the policy: %v; want 403", err)
	}
	if _, err := e.admin.SetOutboundPolicy(ctx, client.OutboundPolicy{Allow: []string{"10.0.0.0/8:0"}}); !errors.As(err, &ce) ||
		ce.Problem.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a bad port: %v; want 422", err)
	}
	if _, err := e.admin.SetOutboundPolicy(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err = e.user.GetOutboundPolicy(ctx)
	if err != nil || !slices.Equal(got.Allow, want.Allow) || !slices.Equal(got.Deny, want.Deny) {
		t.Errorf("policy after the change = %+v, %v; want %+v", got, err, want)
	}
}
