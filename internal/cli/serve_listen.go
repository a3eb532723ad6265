package cli

import (
	"fmt"
	"net"

	"github.com/certkeeper/certkeeper/internal/agent"
)

// serveListeners are the listeners of "certkeeper serve", bound before
// anything is created (inventory, master key, CA, admin user, HTTPS
// certificate) so that a taken port fails the start and changes nothing.
// pki and agent are nil when turned off.
type serveListeners struct {
	main, pki, agent net.Listener
}

// bindListeners binds the HTTPS, plain-HTTP (PKI) and agent addresses of
// the flags or the environment.
func (a *app) bindListeners(o *serveOptions) (*serveListeners, error) {
	addrs := []struct {
		flag, addr string
		dst        *net.Listener
	}{
		{"--listen", first(o.listen, a.env.Getenv("CERTKEEPER_LISTEN"), "127.0.0.1:8443"), nil},
		{"--pki-listen", first(o.pkiListen, a.env.Getenv("CERTKEEPER_PKI_LISTEN"), "127.0.0.1:8080"), nil},
		{"--agent-listen", first(o.agentListen, a.env.Getenv("CERTKEEPER_AGENT_LISTEN"), agent.DefaultListen), nil},
	}
	l := &serveListeners{}
	addrs[0].dst, addrs[1].dst, addrs[2].dst = &l.main, &l.pki, &l.agent
	for i, b := range addrs {
		if i > 0 && b.addr == "off" {
			continue
		}
		ln, err := net.Listen("tcp", b.addr)
		if err != nil {
			l.close()
			return nil, fmt.Errorf("%s %s: %w", b.flag, b.addr, err)
		}
		*b.dst = ln
	}
	return l, nil
}

// close closes every listener still open; the servers close those they
// served, so errors are of no interest here.
func (l *serveListeners) close() {
	for _, ln := range []net.Listener{l.main, l.pki, l.agent} {
		if ln != nil {
			ln.Close()
		}
	}
}
