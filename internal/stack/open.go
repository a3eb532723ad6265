package stack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/store"
)

// OpenDataDir opens the SQLite inventory dir/certkeeper.db and unlocks it
// with the master key dir/master.key, creating the directory (mode 0700),
// the inventory and, for an inventory holding nothing sealed, the key
// when they are missing. The caller closes the store.
func OpenDataDir(ctx context.Context, dir string) (inventory.Store, *keys.Sealer, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "certkeeper.db"))
	if err != nil {
		return nil, nil, err
	}
	samples, err := st.SealedSamples(ctx)
	if err == nil {
		var sealer *keys.Sealer
		if sealer, err = keys.Unlock(filepath.Join(dir, "master.key"), "", samples, true); err == nil {
			return st, sealer, nil
		}
	}
	st.Close()
	return nil, nil, err
}
