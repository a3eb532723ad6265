package stack

import (
	"context"

	"github.com/certkeeper/certkeeper/internal/keys"
)

// Rekey re-encrypts every sealed secret of the inventory under a new
// master key written to path (see keys.Rotate): the keys and the deploy
// targets' secrets, the vendor-account passwords, the SMTP password and
// the notification channels' secrets.
// The stack's services keep the old key; a rekeyed stack is done with.
// As keys.Rotate, it may return a Rotation together with an error.
func (s *Stack) Rekey(ctx context.Context, path, actor string) (*keys.Rotation, error) {
	vendorPasswords := func(ctx context.Context, rewrap func([]byte) ([]byte, error)) error {
		_, err := s.Catalogue.RewrapPasswords(ctx, rewrap)
		return err
	}
	return keys.Rotate(ctx, s.Store, path, actor, s.now, vendorPasswords, s.Settings.Rewrap, s.Notify.Rewrap)
}
