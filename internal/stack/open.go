package stack

import (
	"context"
	"path/filepath"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// OpenDataDir opens the SQLite inventory dir/certkeeper.db and unlocks it
// with the master key dir/master.key, creating the directory (mode 0700),
// the inventory and, for an inventory holding nothing sealed, the key
// when they are missing. The caller closes the store.
func OpenDataDir(ctx context.Context, dir string) (inventory.Store, *keys.Sealer, error) {
	inv := &Inventory{Database: filepath.Join(dir, "certkeeper.db"), MasterKeyFile: filepath.Join(dir, "master.key"), Create: true}
	return inv.Open(ctx)
}
