package outbound_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/outbound"
)

// counting is a loopback listener that counts the connections it accepts.
type counting struct {
	ln       net.Listener
	accepted atomic.Int64
}

func newCounting(t *testing.T) *counting {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &counting{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.accepted.Add(1)
			conn.Close()
		}
	}()
	return c
}

func (c *counting) addr() string { return c.ln.Addr().String() }

// waitAccepted waits until n connections were accepted.
func (c *counting) waitAccepted(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.accepted.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("accepted %d connections; want %d", c.accepted.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDialerDeniesBeforeConnecting dials a real listener, first allowed,
// then with loopback denied: the second dial is refused with the typed
// error and the listener accepted exactly the one allowed connection.
// The allowed dial through the same listener proves the count works.
func TestDialerDeniesBeforeConnecting(t *testing.T) {
	ctx := context.Background()
	c := newCounting(t)
	d := outbound.NewDialer(nil)
	conn, err := d.DialContext(ctx, "tcp", c.addr())
	if err != nil {
		t.Fatalf("allowed dial: %v", err)
	}
	conn.Close()
	c.waitAccepted(t, 1)

	d.SetPolicy(mustPolicy(t, nil, []string{"127.0.0.0/8"}))
	for range 3 {
		conn, err = d.DialContext(ctx, "tcp", c.addr())
		var de *outbound.DeniedError
		if conn != nil || !errors.As(err, &de) || !errors.Is(err, outbound.ErrDenied) {
			t.Fatalf("denied dial = %v, %v; want a *DeniedError", conn, err)
		}
		if want := "connection to " + c.addr() + " is not allowed by the outbound policy"; err.Error() != want {
			t.Fatalf("error = %q; want %q", err.Error(), want)
		}
	}
	// A connection after the denied ones proves nothing queued: the
	// listener's count is then exactly 2.
	d.SetPolicy(nil)
	conn, err = d.DialContext(ctx, "tcp", c.addr())
	if err != nil {
		t.Fatalf("dial after the policy was lifted: %v", err)
	}
	conn.Close()
	c.waitAccepted(t, 2)
	if n := c.accepted.Load(); n != 2 {
		t.Errorf("accepted %d connections; want 2 (none while denied)", n)
	}
}

// TestDialerChecksResolvedAddress dials a name: the check applies to the
// address it resolves to, not to the text given.
func TestDialerChecksResolvedAddress(t *testing.T) {
	c := newCounting(t)
	_, port, _ := net.SplitHostPort(c.addr())
	d := outbound.NewDialer(mustPolicy(t, nil, []string{"127.0.0.0/8", "::1"}))
	_, err := d.DialContext(context.Background(), "tcp", net.JoinHostPort("localhost", port))
	if !errors.Is(err, outbound.ErrDenied) {
		t.Fatalf("dial localhost = %v; want ErrDenied", err)
	}
	if n := c.accepted.Load(); n != 0 {
		t.Errorf("accepted %d connections; want 0", n)
	}
}

// TestDialerPortRule denies one port only.
func TestDialerPortRule(t *testing.T) {
	open, closed := newCounting(t), newCounting(t)
	_, closedPort, _ := net.SplitHostPort(closed.addr())
	d := outbound.NewDialer(mustPolicy(t, nil, []string{"127.0.0.1:" + closedPort}))
	conn, err := d.DialContext(context.Background(), "tcp", open.addr())
	if err != nil {
		t.Fatalf("dial to the other port: %v", err)
	}
	conn.Close()
	if _, err := d.DialContext(context.Background(), "tcp", closed.addr()); !errors.Is(err, outbound.ErrDenied) {
		t.Fatalf("dial to the denied port = %v; want ErrDenied", err)
	}
	open.waitAccepted(t, 1)
	if n := closed.accepted.Load(); n != 0 {
		t.Errorf("the denied port accepted %d connections", n)
	}
}

// TestDialerMetadataNeverDialled runs the dialer's Control hook, which
// every attempt passes before connect(2), on metadata and link-local
// addresses under a broad allow list, without a socket: nothing is ever
// sent towards them, even when this test fails.
func TestDialerMetadataNeverDialled(t *testing.T) {
	d := outbound.NewDialer(mustPolicy(t, []string{"0.0.0.0/0", "::/0"}, nil))
	for _, addr := range []string{"169.254.169.254:80", "[fd00:ec2::254]:80", "100.100.100.200:80",
		"[::ffff:169.254.169.254]:80", "[fe80::1%lo]:443"} {
		if err := d.Control("tcp", addr); !errors.Is(err, outbound.ErrDenied) {
			t.Errorf("Control(%s) = %v; want ErrDenied", addr, err)
		}
	}
	if err := d.Control("tcp4", "203.0.113.7:443"); err != nil {
		t.Errorf("Control of a public address under a broad allow = %v", err)
	}
	if _, err := d.DialContext(context.Background(), "udp", "127.0.0.1:53"); err == nil {
		t.Error("a UDP dial was allowed")
	}
}

// TestHTTPClientRedirectChecked follows a redirect from an allowed server
// to a denied one: the second is never contacted.
func TestHTTPClientRedirectChecked(t *testing.T) {
	var denied atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		denied.Add(1)
	}))
	defer target.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/x", http.StatusFound)
	}))
	defer front.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(target.URL, "http://"))
	hc := outbound.NewDialer(mustPolicy(t, nil, []string{"127.0.0.1:" + port})).HTTPClient(0)
	resp, err := hc.Get(front.URL)
	if err == nil {
		resp.Body.Close()
		t.Fatal("the redirect to a denied address was followed")
	}
	if !errors.Is(err, outbound.ErrDenied) {
		t.Fatalf("error = %v; want ErrDenied", err)
	}
	if n := denied.Load(); n != 0 {
		t.Errorf("the denied server answered %d requests", n)
	}
}

// TestHTTPClientBodyCap fails reading a body past the cap.
func TestHTTPClientBodyCap(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 100)))
		w.(http.Flusher).Flush() // chunked: no Content-Length to refuse up front
		w.Write([]byte(strings.Repeat("x", 100)))
	}))
	defer srv.Close()
	for _, tt := range []struct {
		max     int64
		wantErr bool
	}{{200, false}, {150, true}} {
		resp, err := outbound.NewDialer(nil).HTTPClient(tt.max).Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if gotErr := errors.Is(err, outbound.ErrTooLarge); gotErr != tt.wantErr {
			t.Errorf("cap %d: read %d bytes, %v; want ErrTooLarge=%v", tt.max, len(body), err, tt.wantErr)
		}
	}
}

func mustAddrPort(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}
