package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestRunServesGivenListeners: listeners bound by the caller are served
// as they are, and closed when the server stops.
func TestRunServesGivenListeners(t *testing.T) {
	main, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Listener: main, PlainListener: plain}, nil, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan Addrs, 1)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, func(a Addrs) { ready <- a }) }()
	var addrs Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("Run returned before listening: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not report its addresses within 10s")
	}
	if addrs.Main.String() != main.Addr().String() || addrs.Plain.String() != plain.Addr().String() {
		t.Errorf("Run serves on %v and %v, want the given %v and %v", addrs.Main, addrs.Plain, main.Addr(), plain.Addr())
	}
	for _, a := range []net.Addr{addrs.Main, addrs.Plain} {
		resp, err := http.Get("http://" + a.String() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s/healthz = %d %s", a, resp.StatusCode, body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	again, err := net.Listen("tcp", main.Addr().String())
	if err != nil {
		t.Fatalf("the main listener is still open after Run: %v", err)
	}
	again.Close()
}
