package deploy

import (
	"errors"
	"sync"
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestServiceBusy checks that an install, check or roll back of a
// deployment another action holds is refused rather than run twice, and
// that the per-deployment mutexes are dropped once free.
func TestServiceBusy(t *testing.T) {
	s := NewService(nil, nil, ServiceOptions{})
	unlock, ok := s.locks.tryLock(7)
	if !ok {
		t.Fatal("tryLock of a free deployment failed")
	}
	for name, act := range map[string]func() error{
		"install":  func() error { _, err := s.Install(t.Context(), "test", 7); return err },
		"check":    func() error { _, err := s.Check(t.Context(), "test", 7); return err },
		"rollback": func() error { _, err := s.Rollback(t.Context(), "test", 7); return err },
	} {
		if err := act(); !errors.Is(err, inventory.ErrState) {
			t.Errorf("%s while busy = %v, want a state error", name, err)
		}
	}
	unlock()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { s.locks.lock(7)() })
	}
	wg.Wait()
	if n := len(s.locks.held); n != 0 {
		t.Errorf("%d mutexes kept after use, want 0", n)
	}
}
