package monitor

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

// FuzzCheckAddress: any text typed as an address is refused with a
// field error or accepted as HOST:PORT with a port from 1 to 65535 that
// parses again to itself; it never panics.
func FuzzCheckAddress(f *testing.F) {
	for _, s := range []string{"www.example.com:443", "[::1]:8443", "127.0.0.1:25", "no-port", ":443", "a:0",
		"a:65536", "a b:1", "[fe80::1%eth0]:443", "x:-1", "\x00:1", "\f:1", "a\u00a0b:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := checkAddress(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("checkAddress(%q): error of several lines: %q", s, err)
			}
			return
		}
		host, port, err := net.SplitHostPort(got)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			t.Fatalf("checkAddress(%q) accepted %q: host %q port %q (%v)", s, got, host, port, err)
		}
		if again, err := checkAddress(got); err != nil || again != got {
			t.Errorf("checkAddress(%q) = %q, %v; want itself", got, again, err)
		}
	})
}

// FuzzValidName: names accepted as server names are short enough and
// made of DNS characters only.
func FuzzValidName(f *testing.F) {
	for _, s := range []string{"www.example.com", "a", "-a", "a..b", "*.example.com", "xn--bcher-kva.example", "a_b.test"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !validName(s) {
			return
		}
		if len(s) > 253 || strings.ContainsFunc(s, func(r rune) bool {
			return !(r == '.' || r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}) {
			t.Errorf("validName(%q) = true", s)
		}
	})
}
