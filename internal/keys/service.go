package keys

import (
	"context"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Store is what Service reads; the inventory store is one.
type Store interface {
	UsageStore
	GetKey(ctx context.Context, id int64) (*inventory.Key, error)
	ListKeys(ctx context.Context, p inventory.Page) ([]inventory.Key, string, error)
}

// Service reads the stored (sealed) keys and what uses them. Make one
// with NewService. Unsealing a key for export is package export's work.
type Service struct {
	st Store
}

// NewService returns the service over st.
func NewService(st Store) *Service { return &Service{st: st} }

// List returns one page of the keys in ID order and the cursor of the
// next page ("" on the last).
func (s *Service) List(ctx context.Context, p inventory.Page) ([]inventory.Key, string, error) {
	return s.st.ListKeys(ctx, p)
}

// Get returns key id with what uses it. An unknown key gives
// inventory.ErrNotFound.
func (s *Service) Get(ctx context.Context, id int64) (*inventory.Key, *Usage, error) {
	k, err := s.st.GetKey(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	u, err := UsageOf(ctx, s.st, id)
	if err != nil {
		return nil, nil, err
	}
	return k, u, nil
}
