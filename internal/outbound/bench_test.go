package outbound

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"
)

// BenchmarkDial compares a TCP connect to a loopback listener through the
// Dialer (the built-in denials plus an admin policy of 20 allow and 20
// deny rules, checked in the Control hook) with a bare net.Dialer: the
// price of the outbound policy on every connection certkeeper makes for
// someone.
func BenchmarkDial(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	var allow, deny []Rule
	for i := range 20 {
		allow = append(allow, mustRules(fmt.Sprintf("10.%d.0.0/16:443,8443", i))...)
		deny = append(deny, mustRules(fmt.Sprintf("10.%d.99.0/24", i))...)
	}
	allow = append(allow, mustRules("127.0.0.0/8")...)
	policy := NewDialer(&Policy{Allow: allow, Deny: deny})
	var bare net.Dialer
	ctx := context.Background()
	for _, d := range []struct {
		name string
		dial func(ctx context.Context, network, addr string) (net.Conn, error)
	}{{"raw", bare.DialContext}, {"policy", policy.DialContext}} {
		b.Run(d.name, func(b *testing.B) {
			for range b.N {
				c, err := d.dial(ctx, "tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}

// BenchmarkCheck is the policy decision alone for an allowed address.
func BenchmarkCheck(b *testing.B) {
	var allow []Rule
	for i := range 40 {
		allow = append(allow, mustRules(fmt.Sprintf("10.%d.0.0/16:443", i))...)
	}
	p := &Policy{Allow: append(allow, mustRules("127.0.0.0/8")...)}
	addr := netip.MustParseAddrPort("127.0.0.1:443")
	for range b.N {
		if err := p.Check(addr); err != nil {
			b.Fatal(err)
		}
	}
}
