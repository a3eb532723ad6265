package check

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/internal/deploytest"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

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
	r := Run(context.Background(), inventory.CheckSpec{Host: host, Port: port}, engine.Want{},
		Options{Outbound: deploytest.DenyPort(t, addr)})
	want := "connection to " + addr + " is not allowed by the outbound policy"
	if r.Passed || !strings.Contains(r.Error, want) {
		t.Errorf("check = passed %v, error %q; want %q", r.Passed, r.Error, want)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the denied server saw %d connections", n)
	}
}
