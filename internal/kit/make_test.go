package kit

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
)

// newInventory returns an Authority over a fresh SQLite inventory with no
// CA yet, and the inventory.
func newInventory(t *testing.T) (*ca.Authority, inventory.Store) {
	t.Helper()
	sealer, err := keys.NewSealer(nil, bytes.Repeat([]byte{5}, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "ck.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return ca.New(st, sealer, ca.Config{}), st
}

func TestMake(t *testing.T) {
	auth, st := newInventory(t)
	ctx := context.Background()
	now := func() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) }
	dir := filepath.Join(t.TempDir(), "my kit")
	m, err := Make(ctx, auth, withAdmin(Spec{ServerNames: []string{"ls.example.test"}}), MakeOptions{Dir: dir, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	def, err := st.DefaultCA(ctx)
	if err != nil || m.CA != def.Name || len(m.Kit.Parts) != 1 {
		t.Fatalf("Make = %+v; want the server from the default CA (created: %v, %v)", m, def, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "server")); err != nil {
		t.Fatalf("server directory not written: %v", err)
	}

	added, err := Make(ctx, auth, withAdmin(Spec{ClientsOnly: true, Clients: []string{"ws1"}}),
		MakeOptions{Dir: dir, Layouts: Builtin(), Now: now})
	if err != nil || added.CA != def.Name || !added.Kit.Root.Equal(m.Kit.Root) {
		t.Fatalf("clients only = %+v, %v; want ws1 from the kit's CA and root", added, err)
	}
	for name, tc := range map[string]struct {
		spec Spec
		dir  string
		want string
	}{
		"another CA": {Spec{ClientsOnly: true, CA: "other", Clients: []string{"ws2"}}, dir, "not \"other\""},
		"no kit":     {Spec{ClientsOnly: true, Clients: []string{"ws2"}}, t.TempDir(), "holds no kit"},
		"unknown CA": {Spec{CA: "nope", ServerNames: []string{"x.test"}}, filepath.Join(t.TempDir(), "k"), "nope"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Make(ctx, auth, withAdmin(tc.spec), MakeOptions{Dir: tc.dir, Layouts: Builtin(), Now: now}); err == nil ||
				!strings.Contains(err.Error(), tc.want) {
				t.Errorf("Make = %v, want an error saying %q", err, tc.want)
			}
		})
	}

	fresh, err := Make(ctx, auth, withAdmin(Spec{ServerNames: []string{"n.example.test"}}),
		MakeOptions{Dir: filepath.Join(t.TempDir(), "new/"), NewCA: true, Now: now})
	if err != nil || fresh.CA != "kit-new-20300102-030405" || fresh.Kit.Root.Equal(m.Kit.Root) {
		t.Fatalf("new CA = %+v, %v; want CA kit-new-20300102-030405 with its own root", fresh, err)
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{"my kit": "my-kit", "a_b-1": "a_b-1", "": "kit", "***": "kit", "é": "kit", "a.b": "a-b"} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}
