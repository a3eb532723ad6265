package outbound_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/store"
)

func TestServiceSetLoadAudit(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d := outbound.NewDialer(nil)
	svc := outbound.NewService(st, d, nil)
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if p := svc.Get(ctx); len(p.Allow)+len(p.Deny) != 0 {
		t.Fatalf("default policy = %+v; want empty", p)
	}

	_, err = outbound.Parse([]string{"10.0.0.0/8:99999"}, nil)
	var fe *inventory.FieldError
	if !errors.As(err, &fe) || fe.Field != "allow" {
		t.Fatalf("bad port = %v; want a field error on allow", err)
	}
	if _, err = outbound.Parse(nil, []string{"nonsense"}); !errors.As(err, &fe) || fe.Field != "deny" {
		t.Fatalf("bad network = %v; want a field error on deny", err)
	}

	p := mustPolicy(t, []string{"10.0.0.0/8:443"}, []string{"10.9.0.0/16"})
	if _, err := svc.Set(ctx, "user:alice", p); err != nil {
		t.Fatal(err)
	}
	if err := d.Policy().Check(mustAddrPort(t, "10.9.0.1:443")); !errors.Is(err, outbound.ErrDenied) {
		t.Errorf("the dialer did not take the new policy at once: %v", err)
	}
	if _, err := svc.Set(ctx, "user:alice", mustPolicy(t, []string{"10.0.0.0/8:443"}, []string{"10.9.0.0/16"})); err != nil {
		t.Fatal(err)
	}
	events, _, err := st.ListAudit(ctx, time.Time{}, inventory.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	for _, e := range events {
		if e.Action == "outbound.update" {
			changes = append(changes, e.Summary)
		}
	}
	want := "allow 10.0.0.0/8:443; deny 10.9.0.0/16 (was: allow everything not denied; deny nothing)"
	if len(changes) != 1 || changes[0] != want {
		t.Errorf("audit = %q; want one event %q (an unchanged policy is not audited)", changes, want)
	}

	restarted := outbound.NewDialer(nil)
	if err := outbound.NewService(st, restarted, nil).Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(outbound.Texts(restarted.Policy().Deny), " "); got != "10.9.0.0/16" {
		t.Errorf("after a restart deny = %q; want the stored rule", got)
	}
}

// TestServiceRefresh puts in force a change stored by another process.
func TestServiceRefresh(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	served := outbound.NewDialer(nil)
	done := make(chan error, 1)
	go func() {
		done <- outbound.NewService(st, served, nil).Refresh(ctx, 10*time.Millisecond, slog.New(slog.DiscardHandler))
	}()
	other := outbound.NewService(st, outbound.NewDialer(nil), nil)
	if _, err := other.Set(ctx, "cli:ops", mustPolicy(t, nil, []string{"10.9.0.0/16"})); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for served.Policy().Check(mustAddrPort(t, "10.9.0.1:443")) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the served dialer did not take the stored policy within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Refresh = %v; want nil when ctx ends", err)
	}
}
