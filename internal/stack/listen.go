package stack

import (
	"fmt"
	"net"

	"github.com/certkeeper/certkeeper/internal/agent"
)

// The listeners of a process, as ListenError names them.
const (
	ListenerMain    = "main"
	ListenerPKI     = "pki"
	ListenerAgent   = "agent"
	ListenerMetrics = "metrics"
)

// ListenError is a listen address that could not be bound.
type ListenError struct {
	// Listener is ListenerMain, ListenerPKI, ListenerAgent or
	// ListenerMetrics.
	Listener string
	// Addr is the address as configured (defaults filled in).
	Addr string
	Err  error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("stack: %s listener %s: %v", e.Listener, e.Addr, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// listeners are a process's listeners, bound before anything is created
// (inventory, master key, CA, admin user, HTTPS certificate) so that a
// taken port fails the start and changes nothing. pki, agent and metrics
// are nil when turned off.
type listeners struct {
	main, pki, agent, metrics net.Listener
}

// bind binds the HTTPS, plain-HTTP (PKI), agent and metrics addresses of
// pc.
func bind(pc ProcessConfig) (*listeners, error) {
	l := &listeners{}
	addrs := []struct {
		name, addr string
		dst        *net.Listener
	}{
		{ListenerMain, first(pc.Listen, "127.0.0.1:8443"), &l.main},
		{ListenerPKI, first(pc.PKIListen, "127.0.0.1:8080"), &l.pki},
		{ListenerAgent, first(pc.AgentListen, agent.DefaultListen), &l.agent},
		{ListenerMetrics, pc.MetricsListen, &l.metrics},
	}
	for i, b := range addrs {
		if i > 0 && (b.addr == "off" || b.addr == "") {
			continue
		}
		ln, err := net.Listen("tcp", b.addr)
		if err != nil {
			l.close()
			return nil, &ListenError{Listener: b.name, Addr: b.addr, Err: err}
		}
		*b.dst = ln
	}
	return l, nil
}

// close closes every listener still open; the servers close those they
// served, so errors are of no interest here.
func (l *listeners) close() {
	for _, ln := range []net.Listener{l.main, l.pki, l.agent, l.metrics} {
		if ln != nil {
			ln.Close()
		}
	}
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
