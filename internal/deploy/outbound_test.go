package deploy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

func denyPort(t *testing.T, addr string) *outbound.Dialer {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	p, err := outbound.Parse(nil, []string{"127.0.0.0/8:" + port})
	if err != nil {
		t.Fatal(err)
	}
	return outbound.NewDialer(p)
}

// TestSSHThroughOutboundPolicy refuses an SSH deployment to a denied
// server with the policy's error, and reaches it once allowed.
func TestSSHThroughOutboundPolicy(t *testing.T) {
	s := testenv.StartSSHD(t)
	c := engSSHConfig(t, s)
	c.Outbound = denyPort(t, s.Addr)
	_, err := DialSSH(context.Background(), c)
	if !errors.Is(err, outbound.ErrDenied) || !strings.Contains(err.Error(), "is not allowed by the outbound policy") {
		t.Fatalf("DialSSH to a denied server = %v; want the outbound policy's refusal", err)
	}
	c.Outbound.SetPolicy(nil)
	h, err := DialSSH(context.Background(), c)
	if err != nil {
		t.Fatalf("DialSSH once allowed: %v\n%s", err, s.Log())
	}
	h.Close()
}

// TestCheckThroughOutboundPolicy checks a denied server: the result says
// only that the policy refused, and the server saw no connection.
func TestCheckThroughOutboundPolicy(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	r := Check(context.Background(), inventory.CheckSpec{Host: host, Port: port}, Want{},
		CheckOptions{Outbound: denyPort(t, addr)})
	want := "connection to " + addr + " is not allowed by the outbound policy"
	if r.Passed || !strings.Contains(r.Error, want) {
		t.Errorf("check = passed %v, error %q; want %q", r.Passed, r.Error, want)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the denied server saw %d connections", n)
	}
}
