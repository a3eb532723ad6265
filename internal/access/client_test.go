package access

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies, err := ParseProxies([]string{"10.0.0.0/8", "fd00::1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		remote    string
		xff       []string
		forwarded string
		want      string
	}{
		{"direct peer", "198.51.100.7:5000", nil, "", "198.51.100.7"},
		{"forged header from an untrusted peer", "198.51.100.7:5000", []string{"127.0.0.1"}, "", "198.51.100.7"},
		{"trusted proxy", "10.0.0.2:5000", []string{"203.0.113.9"}, "", "203.0.113.9"},
		{"forged left part skipped", "10.0.0.2:5000", []string{"127.0.0.1, 203.0.113.9"}, "", "203.0.113.9"},
		{"chain of trusted proxies", "10.0.0.2:5000", []string{"127.0.0.1, 203.0.113.9, 10.0.0.7", "10.9.9.9"}, "", "203.0.113.9"},
		{"all hops trusted", "10.0.0.2:5000", []string{"10.0.0.5, 10.0.0.6"}, "", "10.0.0.5"},
		{"IPv6 proxy", "[fd00::1]:443", []string{"2001:db8::5"}, "", "2001:db8::5"},
		{"mapped peer", "[::ffff:10.0.0.2]:5000", []string{"::ffff:203.0.113.9"}, "", "203.0.113.9"},
		{"hop with port", "10.0.0.2:5000", []string{"[2001:db8::5]:4711"}, "", "2001:db8::5"},
		{"unparseable header", "10.0.0.2:5000", []string{"203.0.113.9, garbage"}, "", "10.0.0.2"},
		{"trusted proxy without header", "10.0.0.2:5000", nil, "", "10.0.0.2"},
		{"Forwarded", "10.0.0.2:5000", nil, `for=192.0.2.60;proto=https, for="[2001:db8:cafe::17]:4711";by=10.0.0.2`, "2001:db8:cafe::17"},
		{"Forwarded obfuscated", "10.0.0.2:5000", nil, `for=_hidden`, "10.0.0.2"},
		{"X-Forwarded-For wins", "10.0.0.2:5000", []string{"203.0.113.9"}, `for=192.0.2.60`, "203.0.113.9"},
		{"peer without port", "198.51.100.7", nil, "", "198.51.100.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tt.forwarded != "" {
				r.Header.Set("Forwarded", tt.forwarded)
			}
			if got := proxies.ClientIP(r); got != netip.MustParseAddr(tt.want) {
				t.Errorf("ClientIP = %v, want %s", got, tt.want)
			}
		})
	}
	var none Proxies
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr, r.Header["X-Forwarded-For"] = "10.0.0.2:1", []string{"203.0.113.9"}
	if got := none.ClientIP(r); got != netip.MustParseAddr("10.0.0.2") {
		t.Errorf("without trusted proxies ClientIP = %v, want the peer 10.0.0.2", got)
	}
}

func TestParseProxies(t *testing.T) {
	if _, err := ParseProxies([]string{"10.0.0.0/8", "bogus"}); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("ParseProxies(bogus) = %v, want an error naming it", err)
	}
}

func TestGuard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allowlist.txt")
	os.WriteFile(path, []byte("192.0.2.0/24\n"), 0o600)
	log, logs := newLog()
	l, err := Open(path, openStore(t), log)
	if err != nil {
		t.Fatal(err)
	}
	proxies, _ := ParseProxies([]string{"10.0.0.1"})
	var seen netip.Addr
	h := l.Guard(proxies, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = ClientAddr(r.Context())
		io.WriteString(w, "ok")
	}))
	srv := httptest.NewServer(h) // the client connects from 127.0.0.1, which the list refuses
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/api/v1/certificates?token=secret")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
		!strings.Contains(string(body), "allow-list") {
		t.Errorf("refused request: %d %s %q, want 403 text/plain naming the allow-list", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	line := lineWith(logs.String(), "request refused by IP allow-list")
	for _, want := range []string{"level=WARN", "addr=127.0.0.1", "method=GET", "path=/api/v1/certificates"} {
		if !strings.Contains(line, want) {
			t.Errorf("refusal log line %q lacks %s", line, want)
		}
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("the log holds the query string:\n%s", logs)
	}

	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.1:3456"
	r.Header.Set("X-Forwarded-For", "192.0.2.44")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || seen != netip.MustParseAddr("192.0.2.44") {
		t.Errorf("allowed request through a trusted proxy: %d, ClientAddr %v; want 200, 192.0.2.44", w.Code, seen)
	}
	if _, ok := ClientAddr(t.Context()); ok {
		t.Error("ClientAddr outside Guard reports an address")
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes("# header\n\n 10.1.2.3/8 # masked\n192.0.2.7\n::ffff:172.16.0.0/108\n2001:db8::1\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "10.0.0.0/8 192.0.2.7/32 172.16.0.0/12 2001:db8::1/128"; join(got) != want {
		t.Errorf("ParsePrefixes = %s, want %s", join(got), want)
	}
	for _, bad := range []string{"10.0.0.0/33", "fe80::1%eth0", "::ffff:10.0.0.0/80", "example.com", "10.0.0.1 10.0.0.2"} {
		_, err := ParsePrefixes("127.0.0.1\n" + bad + "\n")
		le, ok := err.(*LineError)
		if !ok || le.Line != 2 || le.Text != bad {
			t.Errorf("ParsePrefixes(%q) = %v, want a LineError for line 2", bad, err)
		}
	}
}

func FuzzParsePrefixes(f *testing.F) {
	for _, s := range []string{defaultFile(), "10.0.0.0/8\n", "::ffff:1.2.3.4/120 # x\n", "fe80::1%eth0", "1.2.3.4\r\n::/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got, err := ParsePrefixes(text)
		if err != nil {
			return
		}
		again, err := ParsePrefixes(Format(got))
		if err != nil {
			t.Fatalf("formatted list does not parse: %v\n%s", err, Format(got))
		}
		if join(again) != join(got) {
			t.Fatalf("round trip: %s, want %s", join(again), join(got))
		}
	})
}
