package stack_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/certkeeper/certkeeper/internal/stack"
)

// openProblem opens inv and returns the OpenError's reason, 0 for none.
func openProblem(t *testing.T, inv *stack.Inventory) stack.OpenProblem {
	t.Helper()
	_, _, err := inv.Open(context.Background())
	inv.Close()
	var oe *stack.OpenError
	if errors.As(err, &oe) {
		return oe.Problem
	}
	if err != nil {
		t.Fatalf("Open: %v, want an OpenError or success", err)
	}
	return 0
}

// TestInventoryOpen: only Create creates an inventory and its key; a
// missing or wrong key for an inventory holding sealed keys, a missing
// inventory and an unusable location are told apart.
func TestInventoryOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	at := func(create bool) *stack.Inventory {
		return &stack.Inventory{Database: filepath.Join(dir, "certkeeper.db"), MasterKeyFile: filepath.Join(dir, "master.key"), Create: create}
	}
	if p := openProblem(t, at(false)); p != stack.NoInventory {
		t.Fatalf("read-only open of nothing: problem %d, want NoInventory", p)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatalf("a read-only open created %s", dir)
	}
	if p := openProblem(t, &stack.Inventory{Database: "mysql://x/y", MasterKeyFile: "k"}); p != stack.BadLocation {
		t.Errorf("mysql URL: problem %d, want BadLocation", p)
	}
	inv := at(true)
	st, sealer, err := inv.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s, err := stack.New(context.Background(), st, sealer, stack.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Authority.EnsureDefault(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := inv.Open(context.Background()); again != st {
		t.Errorf("a second Open opened another store")
	}
	inv.Close()
	other := filepath.Join(t.TempDir(), "other")
	if p := openProblem(t, &stack.Inventory{Database: filepath.Join(other, "ck.db"), MasterKeyFile: filepath.Join(other, "master.key"), Create: true}); p != 0 {
		t.Fatalf("new inventory: problem %d", p)
	}
	if p := openProblem(t, &stack.Inventory{Database: at(false).Database, MasterKeyFile: filepath.Join(other, "master.key")}); p != stack.WrongMasterKey {
		t.Errorf("another inventory's key: problem %d, want WrongMasterKey", p)
	}
	if err := os.Remove(filepath.Join(dir, "master.key")); err != nil {
		t.Fatal(err)
	}
	if p := openProblem(t, at(true)); p != stack.NoMasterKey {
		t.Errorf("missing key: problem %d, want NoMasterKey", p)
	}
}
