package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var channelContractCases = []struct {
	name string
	run  func(t *testing.T, e *env)
}{
	{"Channels", testChannels},
	{"ChannelRewrap", testChannelRewrap},
	{"Notifications", testNotifications},
}

// TestChannelStoreContract runs the inventory.ChannelStore contract
// against every backend.
func TestChannelStoreContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range channelContractCases {
				t.Run(tc.name, func(t *testing.T) {
					loc := b.fresh(t)
					tc.run(t, &env{b: b, loc: loc, s: openStore(t, b, loc)})
				})
			}
		})
	}
}

func testChannels(t *testing.T, e *env) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	hook := &inventory.Channel{Name: "ops", Format: inventory.FormatGeneric, URL: "https://hooks.example/x",
		SealedSecret: []byte("sealed-1"), CreatedAt: at, CreatedBy: "user:admin"}
	chat := &inventory.Channel{Name: "chat", Format: inventory.FormatSlack, URL: "https://hooks.slack.example/T/B/c"}
	for _, c := range []*inventory.Channel{hook, chat} {
		if err := e.s.PutChannel(ctx, c); err != nil || c.ID == 0 {
			t.Fatalf("PutChannel(%s) = %v, ID %d", c.Name, err, c.ID)
		}
	}
	if chat.CreatedAt.IsZero() {
		t.Error("PutChannel left CreatedAt zero")
	}
	dup := &inventory.Channel{Name: "ops", Format: inventory.FormatNtfy, URL: "https://ntfy.example/t"}
	if err := e.s.PutChannel(ctx, dup); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("PutChannel(duplicate name) = %v, want ErrConflict", err)
	}
	got, err := e.s.ChannelByName(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(*hook, *got); diff != "" {
		t.Errorf("ChannelByName (-want +got):\n%s", diff)
	}
	list, err := e.s.ListChannels(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "chat" || list[1].Name != "ops" {
		t.Fatalf("ListChannels = %+v, %v; want chat, ops", list, err)
	}
	if list[0].SealedSecret != nil {
		t.Errorf("a channel without secret reads back %q", list[0].SealedSecret)
	}
	if err := e.s.DeleteChannel(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.ChannelByName(ctx, "ops"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("ChannelByName(deleted) = %v, want ErrNotFound", err)
	}
	if err := e.s.DeleteChannel(ctx, "ops"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("DeleteChannel(unknown) = %v, want ErrNotFound", err)
	}
}

func testChannelRewrap(t *testing.T, e *env) {
	ctx := context.Background()
	for _, c := range []*inventory.Channel{
		{Name: "a", Format: inventory.FormatGeneric, URL: "https://a.example/", SealedSecret: []byte("old-a")},
		{Name: "b", Format: inventory.FormatSlack, URL: "https://b.example/"},
	} {
		if err := e.s.PutChannel(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	samples, err := e.s.SealedSamples(ctx)
	if err != nil || len(samples) != 1 || !bytes.Equal(samples[0], []byte("old-a")) {
		t.Errorf("SealedSamples = %q, %v; want the channel's secret", samples, err)
	}
	n, err := e.s.RewrapChannelSecrets(ctx, func(b []byte) ([]byte, error) {
		return append([]byte("new:"), b...), nil
	})
	if err != nil || n != 1 {
		t.Fatalf("RewrapChannelSecrets = %d, %v; want 1", n, err)
	}
	a, _ := e.s.ChannelByName(ctx, "a")
	b, _ := e.s.ChannelByName(ctx, "b")
	if string(a.SealedSecret) != "new:old-a" || b.SealedSecret != nil {
		t.Errorf("after rewrap: a %q, b %q; want new:old-a and none", a.SealedSecret, b.SealedSecret)
	}
	boom := errors.New("boom")
	if _, err := e.s.RewrapChannelSecrets(ctx, func([]byte) ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("RewrapChannelSecrets(failing) = %v, want boom", err)
	}
	if a, _ = e.s.ChannelByName(ctx, "a"); string(a.SealedSecret) != "new:old-a" {
		t.Errorf("a failed rewrap changed the secret to %q", a.SealedSecret)
	}
}

func testNotifications(t *testing.T, e *env) {
	ctx := context.Background()
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var want []inventory.Notification
	for i := range 5 {
		n := &inventory.Notification{Time: base.Add(time.Duration(i/2) * time.Second), Channel: "ops",
			Kind: inventory.NoticeFiring, Key: "alert-1", Subject: "s", Status: inventory.NotificationFailed,
			Attempts: 3, HTTPStatus: 503, Error: "HTTP 503"}
		if err := e.s.PutNotification(ctx, n); err != nil || n.ID == 0 {
			t.Fatalf("PutNotification = %v, ID %d", err, n.ID)
		}
		want = append([]inventory.Notification{*n}, want...)
	}
	var got []inventory.Notification
	after := ""
	for range 5 {
		page, next, err := e.s.ListNotifications(ctx, inventory.Page{Limit: 2, After: after})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if after = next; after == "" {
			break
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListNotifications pages (-want +got):\n%s", diff)
	}
	if _, _, err := e.s.ListNotifications(ctx, inventory.Page{After: "bad!"}); !errors.Is(err, inventory.ErrBadCursor) {
		t.Errorf("ListNotifications(bad cursor) = %v, want ErrBadCursor", err)
	}
}
