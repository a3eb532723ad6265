package kit

import (
	"path/filepath"
	"strings"
	"testing"
)

func load(t testing.TB, label, dir string) *Side {
	t.Helper()
	l, err := Detect(dir, Builtin())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(label, dir, l)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// failed returns the messages of the failed checks with code.
func failed(r *Report, code string) []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status == Fail && c.Code == code {
			out = append(out, c.Message)
		}
	}
	return out
}

func report(r *Report) string {
	var b strings.Builder
	r.WriteText(&b)
	return b.String()
}

func TestVerifyOpenSSLKits(t *testing.T) {
	k := newSSLKit(t)
	rootA := k.root("root-a", "Kit Root A")
	rootB := k.root("root-b", "Kit Root B")
	server := k.server(rootA, "server", serverExt)
	good := k.client(rootA, "ws1", clientExt)
	foreign := k.client(rootB, "ws2", clientExt)
	noServerAuth := k.server(rootA, "server-noauth", strings.Replace(serverExt, "serverAuth", "clientAuth", 1))
	swapped := k.client(rootA, "ws3", clientExt)
	other := k.client(rootA, "ws4", clientExt)
	copyFile(t, filepath.Join(other, "charon.key"), filepath.Join(swapped, "charon.key"))

	tests := []struct {
		name           string
		server, client string
		wantCodes      []string // codes that must fail; none means all pass
		wantText       []string
	}{
		{"good pair", server, good, nil, nil},
		{"client from another root", server, foreign, []string{CheckSameRoot, CheckTrust, CheckHandshake},
			[]string{"the client's certificate comes from another root (CN=Kit Root B) than the server trusts (CN=Kit Root A): the server will reject it and the client will see a bad_certificate alert",
				"bad_certificate alert"}},
		{"swapped key", server, swapped, []string{CheckKeyMatch, CheckHandshake},
			[]string{"charon.key does not belong to charon.crt", "key is not the certificate's key"}},
		{"server without serverAuth", noServerAuth, good, []string{CheckUsage, CheckTrust, CheckHandshake},
			[]string{"server.crt is not made for server use (extended key usage: clientAuth, serverAuth missing)",
				"the server's certificate is not allowed for server use"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Verify(load(t, "server", tt.server), []*Side{load(t, "client", tt.client)}, Options{ServerNames: []string{"ls.example.test"}})
			text := report(r)
			if tt.wantCodes == nil && !r.OK() {
				t.Fatalf("good pair failed:\n%s", text)
			}
			for _, code := range tt.wantCodes {
				if len(failed(r, code)) == 0 {
					t.Errorf("check %s did not fail:\n%s", code, text)
				}
			}
			for _, s := range tt.wantText {
				if !strings.Contains(text, s) {
					t.Errorf("report does not say %q:\n%s", s, text)
				}
			}
		})
	}
}
