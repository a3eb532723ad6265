package outbound_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/certkeeper/certkeeper/internal/outbound"
)

func mustPolicy(t *testing.T, allow, deny []string) *outbound.Policy {
	t.Helper()
	p, err := outbound.Parse(allow, deny)
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", allow, deny, err)
	}
	return p
}

func TestPolicyCheck(t *testing.T) {
	none := &outbound.Policy{}
	internal := mustPolicy(t, []string{"10.0.0.0/8:443,8443", "192.168.0.0/16:8000-8100", "[fd00::/8]:443"},
		[]string{"10.9.0.0/16"})
	broad := mustPolicy(t, []string{"0.0.0.0/0", "::/0"}, nil)
	loopDenied := mustPolicy(t, nil, []string{"127.0.0.0/8", "::1"})
	tests := []struct {
		name    string
		policy  *outbound.Policy
		addr    string
		allowed bool
	}{
		{"zero policy allows public", none, "203.0.113.7:443", true},
		{"zero policy allows loopback", none, "127.0.0.1:8443", true},
		{"nil policy allows", nil, "198.51.100.1:25", true},
		{"allowed port", internal, "10.1.2.3:443", true},
		{"second allowed port", internal, "10.1.2.3:8443", true},
		{"port not listed", internal, "10.1.2.3:22", false},
		{"range first", internal, "192.168.1.1:8000", true},
		{"range last", internal, "192.168.1.1:8100", true},
		{"past range", internal, "192.168.1.1:8101", false},
		{"outside allow list", internal, "203.0.113.7:443", false},
		{"deny wins over allow", internal, "10.9.1.1:443", false},
		{"v6 allowed", internal, "[fd12::1]:443", true},
		{"v6 wrong port", internal, "[fd12::1]:80", false},
		{"v6 outside", internal, "[2001:db8::1]:443", false},
		{"mapped v4 checked as v4", internal, "[::ffff:10.1.2.3]:443", true},
		{"mapped v4 denied as v4", loopDenied, "[::ffff:127.0.0.1]:80", false},
		{"loopback denied", loopDenied, "127.0.0.1:80", false},
		{"v6 loopback denied", loopDenied, "[::1]:80", false},
		{"metadata under broad allow", broad, "169.254.169.254:80", false},
		{"link-local under broad allow", broad, "169.254.10.1:443", false},
		{"ECS metadata", broad, "169.254.170.2:80", false},
		{"AWS v6 metadata", broad, "[fd00:ec2::254]:80", false},
		{"Alibaba metadata", broad, "100.100.100.200:80", false},
		{"Oracle metadata", broad, "192.0.0.192:80", false},
		{"v6 link-local", broad, "[fe80::1]:443", false},
		{"mapped metadata", broad, "[::ffff:169.254.169.254]:80", false},
		{"NAT64 metadata", broad, "[64:ff9b::a9fe:a9fe]:80", false},
		{"NAT64 Alibaba metadata", none, "[64:ff9b::6464:64c8]:80", false},
		{"NAT64 of a denied v4", loopDenied, "[64:ff9b::7f00:1]:80", false},
		{"NAT64 of an allowed v4", loopDenied, "[64:ff9b::cb00:7107]:443", true},
		{"this network", broad, "0.0.0.0:22", false},
		{"v6 unspecified", broad, "[::]:22", false},
		{"multicast", broad, "224.0.0.1:443", false},
		{"zero policy still denies metadata", none, "169.254.169.254:80", false},
		{"broad allows public", broad, "203.0.113.7:443", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.policy.Check(netip.MustParseAddrPort(tt.addr))
			if got := err == nil; got != tt.allowed {
				t.Fatalf("Check(%s) = %v; want allowed=%v", tt.addr, err, tt.allowed)
			}
			if err == nil {
				return
			}
			var de *outbound.DeniedError
			if !errors.Is(err, outbound.ErrDenied) || !errors.As(err, &de) {
				t.Fatalf("Check(%s) = %#v; want a *DeniedError matching ErrDenied", tt.addr, err)
			}
			want := "connection to " + tt.addr + " is not allowed by the outbound policy"
			if err.Error() != want {
				t.Errorf("message = %q; want %q", err.Error(), want)
			}
		})
	}
}

func TestParseRule(t *testing.T) {
	good := []struct{ in, out string }{
		{"10.0.0.0/8", "10.0.0.0/8"},
		{" 10.1.2.3 ", "10.1.2.3"},
		{"10.1.2.3/32", "10.1.2.3"},
		{"10.0.0.0/8:443,8443", "10.0.0.0/8:443,8443"},
		{"10.0.0.0/8:8000-8100, 22", "10.0.0.0/8:8000-8100,22"},
		{"fd00::/8", "fd00::/8"},
		{"[fd00::/8]:443", "[fd00::/8]:443"},
		{"[::1]:80", "[::1/128]:80"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"},
		{"1.2.3.4:1-65535", "1.2.3.4/32:1-65535"},
	}
	for _, tt := range good {
		r, err := outbound.ParseRule(tt.in)
		if err != nil || r.String() != tt.out {
			t.Errorf("ParseRule(%q) = %q, %v; want %q", tt.in, r.String(), err, tt.out)
		}
	}
	bad := []struct{ in, says string }{
		{"", "empty"},
		{"10.0.0.1/8", "host bits"},
		{"10.0.0.0/33", "CIDR"},
		{"example.com", "IP address"},
		{"10.0.0.0/8:", "no ports"},
		{"10.0.0.0/8:0", "1 to 65535"},
		{"10.0.0.0/8:65536", "1 to 65535"},
		{"10.0.0.0/8:+443", "1 to 65535"},
		{"10.0.0.0/8:9-8", "backwards"},
		{"10.0.0.0/8:443,", "1 to 65535"},
		{"[fd00::/8]", "brackets"},
		{"[fd00::/8:443", "without"},
		{"fe80::1%eth0", "IP address"},
		{strings.Repeat("1", 2000), "over-long"},
	}
	for _, tt := range bad {
		_, err := outbound.ParseRule(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("ParseRule(%q) = %v; want an error saying %q", tt.in, err, tt.says)
		}
	}
}

// FuzzParseRule checks that the parser never panics, and that a rule it
// accepts is written back to a text that reads as the same rule.
func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "10.0.0.0/8:443,8443", "[fd00::/8]:1-65535", "::ffff:1.2.3.0/120",
		"1.2.3.4", "[::1]:80", "[", "1:2", "0.0.0.0/0:1-2,3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := outbound.ParseRule(s)
		if err != nil {
			return
		}
		again, err := outbound.ParseRule(r.String())
		if err != nil || again.String() != r.String() || again.Prefix != r.Prefix {
			t.Fatalf("ParseRule(%q) = %q, reparsed as %q, %v", s, r.String(), again.String(), err)
		}
	})
}
