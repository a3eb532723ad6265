package kit

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
)

// newAuthority returns a real Authority over a fresh SQLite inventory.
func newAuthority(t testing.TB) *ca.Authority {
	t.Helper()
	master := make([]byte, 32)
	rand.Read(master)
	sealer, err := keys.NewSealer(nil, master)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := ca.New(st, sealer, ca.Config{})
	if _, _, err := a.EnsureDefault(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

func makeKit(t testing.TB, iss Issuer, s Spec) string {
	t.Helper()
	s.Requester = ca.Admin("test")
	k, err := Create(context.Background(), iss, s)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "kit")
	if _, err := Write(dir, k, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

var twoClients = Spec{ServerNames: []string{"ls.example.test"}, Clients: []string{"ws1", "ws2"}}

func TestCreateWriteVerify(t *testing.T) {
	dir := makeKit(t, newAuthority(t), twoClients)
	want := map[string]os.FileMode{
		"server/ca.crt": 0o644, "server/server.crt": 0o644, "server/server.key": 0o600,
		"server/web-server.pem": 0o600, "server/web-ca.cer": 0o644,
		"clients/ws1/ca.crt": 0o644, "clients/ws1/charon.crt": 0o644, "clients/ws1/charon.key": 0o600,
		"clients/ws2/charon.key": 0o600,
	}
	for p, mode := range want {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode = %o, want %o", p, fi.Mode().Perm(), mode)
		}
	}
	server := load(t, "server", filepath.Join(dir, "server"))
	clients := []*Side{load(t, "client ws1", filepath.Join(dir, "clients/ws1")), load(t, "client ws2", filepath.Join(dir, "clients/ws2"))}
	if server.Layout != "license-server" || clients[0].Layout != "license-client" {
		t.Errorf("detected layouts %s, %s; want license-server, license-client", server.Layout, clients[0].Layout)
	}
	r := Verify(server, clients, Options{ServerNames: []string{"ls.example.test"}})
	if !r.OK() || r.Count(Pass) != len(r.Checks) {
		t.Errorf("a fresh kit does not verify cleanly:\n%s", report(r))
	}
}

func TestWriteRefusesNonEmptyDir(t *testing.T) {
	a := newAuthority(t)
	k, err := Create(context.Background(), a, withAdmin(twoClients))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("x"), 0o644)
	if _, err := Write(dir, k, WriteOptions{}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("Write into a non-empty dir = %v, want a refusal naming --force", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "server")); err == nil {
		t.Error("a refused Write left files behind")
	}
	w, err := Write(dir, k, WriteOptions{Force: true})
	if err != nil || w.BackupDir != "" {
		t.Fatalf("Write --force = %+v, %v; want no backup (nothing replaced)", w, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keep.txt")); err != nil {
		t.Error("Write --force removed an unrelated file")
	}

	// A second --force replaces the kit's files after backing them up,
	// with their modes, in one dated folder.
	old, _ := os.ReadFile(filepath.Join(dir, "server/server.key"))
	k2, err := Create(context.Background(), a, withAdmin(twoClients))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 10, 11, 12, 0, time.UTC)
	w, err = Write(dir, k2, WriteOptions{Force: true, Now: at})
	if err != nil {
		t.Fatalf("second Write --force: %v", err)
	}
	if want := filepath.Join(dir, ".backup-20261207-101112"); w.BackupDir != want {
		t.Fatalf("BackupDir = %q, want %q", w.BackupDir, want)
	}
	saved, err := os.ReadFile(filepath.Join(w.BackupDir, "server/server.key"))
	if err != nil || string(saved) != string(old) {
		t.Errorf("backed-up server.key = %d bytes, %v; want the replaced key", len(saved), err)
	}
	if fi, err := os.Stat(filepath.Join(w.BackupDir, "server/server.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backed-up key mode = %v, %v; want 0600", fi, err)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "server/server.key")); string(now) == string(old) {
		t.Error("server.key was not replaced")
	}
}

// TestServerOnlyAndAddClients: a kit of a server alone, then clients
// added to it from the same CA, each in its own directory; adding a
// client that exists is refused without --force.
func TestServerOnlyAndAddClients(t *testing.T) {
	a := newAuthority(t)
	dir := makeKit(t, a, Spec{ServerNames: []string{"ls.example.test"}})
	if _, err := os.Stat(filepath.Join(dir, "clients")); err == nil {
		t.Fatal("a server-only kit has a clients directory")
	}
	server := load(t, "server", filepath.Join(dir, "server"))
	root := server.Trust[len(server.Trust)-1]

	add := func(names ...string) (*Written, error) {
		if err := CheckAdd(dir, names, false); err != nil {
			return nil, err
		}
		k, err := Create(context.Background(), a, withAdmin(Spec{ClientsOnly: true, Root: root, Clients: names}))
		if err != nil {
			t.Fatal(err)
		}
		return Write(dir, k, WriteOptions{Add: true})
	}
	if _, err := add("ws1", "ws2"); err != nil {
		t.Fatalf("adding clients: %v", err)
	}
	clients := []*Side{load(t, "client ws1", filepath.Join(dir, "clients/ws1")), load(t, "client ws2", filepath.Join(dir, "clients/ws2"))}
	if r := Verify(server, clients, Options{ServerNames: []string{"ls.example.test"}}); !r.OK() {
		t.Errorf("server and added clients do not verify:\n%s", report(r))
	}
	if _, err := add("ws1"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("adding ws1 again = %v, want a refusal", err)
	}
	if _, err := Create(context.Background(), a, withAdmin(Spec{ClientsOnly: true, Root: clients[0].Leaf, Clients: []string{"ws3"}})); err == nil ||
		!strings.Contains(err.Error(), "under root") {
		t.Errorf("a client under another root = %v, want a refusal", err)
	}
	if err := CheckAdd(filepath.Join(dir, "missing"), []string{"x"}, false); err == nil {
		t.Error("adding to a missing kit directory was accepted")
	}
}

func TestCreateErrors(t *testing.T) {
	a := newAuthority(t)
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"no server name", Spec{Clients: []string{"a"}}, "at least one name"},
		{"clients only with a server", Spec{ClientsOnly: true, ServerNames: []string{"s.test"}, Clients: []string{"a"}}, "no server certificate"},
		{"clients only without clients", Spec{ClientsOnly: true}, "name the clients"},
		{"bad client name", Spec{ServerNames: []string{"s.test"}, Clients: []string{"../x"}}, "names a directory"},
		{"twice", Spec{ServerNames: []string{"s.test"}, Clients: []string{"a", "a"}}, "named twice"},
		{"bad profile", Spec{ServerNames: []string{"s.test"}, Clients: []string{"a"}, ServerProfile: ca.TLSClient}, "server profile"},
		{"unknown CA", Spec{CA: "nope", ServerNames: []string{"s.test"}, Clients: []string{"a"}}, "kit: server: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Create(context.Background(), a, withAdmin(tt.spec))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "kit: ") || strings.Contains(err.Error(), "\n") {
				t.Errorf("Create = %v, want one line starting with kit: and containing %q", err, tt.want)
			}
		})
	}
}

func TestCustomLayout(t *testing.T) {
	layouts, err := ParseLayouts([]byte(`{"layouts": [
	  {"name": "nginx", "files": [
	    {"path": "tls/fullchain.pem", "content": "fullchain"},
	    {"path": "tls/private/key.der", "content": "key", "encoding": "der", "mode": "0640"},
	    {"path": "trust/ca.pem", "content": "ca-cert"},
	    {"path": "trust/root.cer", "content": "ca-cert-der"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	s := twoClients
	s.ServerLayout = layouts[0]
	dir := makeKit(t, newAuthority(t), s)
	fi, err := os.Stat(filepath.Join(dir, "server/tls/private/key.der"))
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("custom key file: %v, mode %v; want 0640", err, fi)
	}
	all := append(Builtin(), layouts...)
	l, err := Detect(filepath.Join(dir, "server"), all)
	if err != nil || l.Name != "nginx" {
		t.Fatalf("Detect = %s, %v; want nginx", l.Name, err)
	}
	server, err := Load("server", filepath.Join(dir, "server"), l)
	if err != nil {
		t.Fatal(err)
	}
	if r := Verify(server, []*Side{load(t, "client", filepath.Join(dir, "clients/ws1"))}, Options{}); !r.OK() {
		t.Errorf("custom layout kit fails:\n%s", report(r))
	}
}

func TestParseLayoutsErrors(t *testing.T) {
	tests := []struct{ name, json, want string }{
		{"not json", `{`, "not valid JSON"},
		{"unknown field", `{"layouts":[{"name":"x","files":[{"path":"a","content":"cert","owner":"root"}]}]}`, `unknown field "owner"`},
		{"no layouts", `{"layouts":[]}`, "no layouts"},
		{"unknown content", `{"layouts":[{"name":"x","files":[{"path":"a","content":"pfx"}]}]}`, `unknown content "pfx"`},
		{"absolute", `{"layouts":[{"name":"x","files":[{"path":"/etc/a","content":"cert"}]}]}`, "must be relative"},
		{"dotdot", `{"layouts":[{"name":"x","files":[{"path":"a/../../b","content":"cert"}]}]}`, `must not contain ".."`},
		{"duplicate", `{"layouts":[{"name":"x","files":[{"path":"a","content":"cert"},{"path":"./a","content":"key"}]}]}`, "appears twice"},
		{"bad mode", `{"layouts":[{"name":"x","files":[{"path":"a","content":"cert","mode":"rw"}]}]}`, "octal permission"},
		{"mode number", `{"layouts":[{"name":"x","files":[{"path":"a","content":"cert","mode":420}]}]}`, `"mode" must be a string`},
		{"executable", `{"layouts":[{"name":"x","files":[{"path":"a","content":"cert","mode":"0755"}]}]}`, "executable"},
		{"public key", `{"layouts":[{"name":"x","files":[{"path":"a","content":"key","mode":"0644"}]}]}`, "lets everyone read a private key"},
		{"der chain", `{"layouts":[{"name":"x","files":[{"path":"a","content":"fullchain","encoding":"der"}]}]}`, "DER cannot"},
		{"builtin name", `{"layouts":[{"name":"license-server","files":[{"path":"a","content":"cert"}]}]}`, "already taken"},
		{"no files", `{"layouts":[{"name":"x","files":[]}]}`, "no files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseLayouts([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "kit: ") {
				t.Errorf("ParseLayouts = %v, want one line containing %q", err, tt.want)
			}
		})
	}
}

func TestVerifyPeers(t *testing.T) {
	a := newAuthority(t)
	both := Spec{ServerNames: []string{"peer1.test"}, Clients: []string{"c"}, ServerProfile: ca.TLSServerClient}
	p1 := makeKit(t, a, both)
	both.ServerNames = []string{"peer2.test"}
	p2 := makeKit(t, a, both)
	plain := makeKit(t, a, Spec{ServerNames: []string{"peer3.test"}, Clients: []string{"c"}})
	r := VerifyPeers(load(t, "peer 1", filepath.Join(p1, "server")), load(t, "peer 2", filepath.Join(p2, "server")), Options{})
	if !r.OK() || r.Count(Pass) != len(r.Checks) || countCode(r, CheckHandshake) != 2 {
		t.Errorf("peers with clientAuth: want every check to pass and two handshakes:\n%s", report(r))
	}
	r = VerifyPeers(load(t, "peer 1", filepath.Join(p1, "server")), load(t, "peer 3", filepath.Join(plain, "server")), Options{})
	if !r.OK() || r.Count(Skip) != 1 {
		t.Errorf("peer without clientAuth: want roots compared and the handshake skipped:\n%s", report(r))
	}
}

func countCode(r *Report, code string) int {
	n := 0
	for _, c := range r.Checks {
		if c.Code == code {
			n++
		}
	}
	return n
}

func BenchmarkKitVerify(b *testing.B) {
	dir := makeKit(b, newAuthority(b), Spec{ServerNames: []string{"ls.example.test"}, Clients: []string{"ws1"}})
	b.ReportAllocs()
	for b.Loop() {
		server := load(b, "server", filepath.Join(dir, "server"))
		client := load(b, "client", filepath.Join(dir, "clients/ws1"))
		if r := Verify(server, []*Side{client}, Options{ServerNames: []string{"ls.example.test"}}); !r.OK() {
			b.Fatal(report(r))
		}
	}
}

func TestVerifyStaleLayoutFiles(t *testing.T) {
	a := newAuthority(t)
	dir := makeKit(t, a, twoClients)
	old := makeKit(t, a, Spec{ServerNames: []string{"old.example.test"}, Clients: []string{"x"}})
	server := filepath.Join(dir, "server")
	r := Verify(load(t, "server", server), nil, Options{})
	if countCode(r, CheckFiles) != 1 || len(failed(r, CheckFiles)) != 0 {
		t.Fatalf("fresh kit: want one passing layout_files check:\n%s", report(r))
	}
	b, _ := os.ReadFile(filepath.Join(old, "server/web-server.pem"))
	os.WriteFile(filepath.Join(server, "web-server.pem"), b, 0o600)
	os.Remove(filepath.Join(server, "web-ca.cer"))
	r = Verify(load(t, "server", server), nil, Options{})
	msgs := failed(r, CheckFiles)
	if len(msgs) != 1 || !strings.Contains(msgs[0], "web-server.pem holds another certificate (CN=old.example.test)") {
		t.Errorf("stale web-server.pem: got %q\n%s", msgs, report(r))
	}
}

func TestVerifyValidityWindow(t *testing.T) {
	dir := makeKit(t, newAuthority(t), Spec{ServerNames: []string{"ls.example.test"}, Clients: []string{"ws1"}, Validity: 90 * 24 * time.Hour})
	server := load(t, "server", filepath.Join(dir, "server"))
	client := load(t, "client", filepath.Join(dir, "clients/ws1"))
	at := func(d time.Time) Options { return Options{Now: func() time.Time { return d }} }
	r := Verify(server, []*Side{client}, at(server.Leaf.NotAfter.Add(-10*24*time.Hour)))
	if !r.OK() || r.Count(Warn) != 2 {
		t.Errorf("10 days before expiry: want two validity warnings and no failure:\n%s", report(r))
	}
	r = Verify(server, []*Side{client}, at(server.Leaf.NotAfter.Add(time.Hour)))
	if len(failed(r, CheckValidity)) != 2 || len(failed(r, CheckHandshake)) != 1 || !strings.Contains(report(r), "expired on") {
		t.Errorf("after expiry: want validity and handshake failures:\n%s", report(r))
	}
}

// withAdmin returns s requested by an admin.
func withAdmin(s Spec) Spec {
	s.Requester = ca.Admin("test")
	return s
}
