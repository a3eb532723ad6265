package keys

import (
	"context"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// RotateStore is what Rotate needs of the inventory.
type RotateStore interface {
	// RewrapKeys re-wraps every private key in one transaction.
	RewrapKeys(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) (int, error)
	// RewrapTargetSecrets re-wraps the deploy targets' secrets.
	RewrapTargetSecrets(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) (int, error)
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
}

// Secrets re-wraps, with rewrap, secrets sealed under the master key that
// the store's keys and targets do not hold (vendor-account passwords, the
// SMTP password), as their services keep them.
type Secrets func(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) error

// Rotation is the outcome of Rotate.
type Rotation struct {
	// Keys is the number of private keys re-wrapped.
	Keys int
	// Sealer seals under the new master key (and still opens under the
	// old one).
	Sealer *Sealer
}

// Rotate replaces the master key in file path: it begins a re-key
// (BeginRekey), re-wraps every private key, then the other secrets, then
// the targets' secrets, commits the new key (CommitRekey) and audits the
// rotation as actor at now() as "masterkey.rotate". If it is interrupted,
// run it again: until it commits, both keys open the inventory. A failed
// audit returns the Rotation, which is done, with the error.
func Rotate(ctx context.Context, st RotateStore, path, actor string, now func() time.Time, others ...Secrets) (*Rotation, error) {
	ring, err := BeginRekey(path)
	if err != nil {
		return nil, err
	}
	n, err := st.RewrapKeys(ctx, ring.Rewrap)
	if err != nil {
		return nil, err
	}
	for _, rewrap := range others {
		if err := rewrap(ctx, ring.Rewrap); err != nil {
			return nil, err
		}
	}
	if _, err := st.RewrapTargetSecrets(ctx, ring.Rewrap); err != nil {
		return nil, err
	}
	if err := CommitRekey(path); err != nil {
		return nil, err
	}
	rot := &Rotation{Keys: n, Sealer: ring}
	return rot, st.AppendAudit(ctx, &inventory.AuditEvent{
		Time: now().UTC(), Actor: actor, Action: "masterkey.rotate", Object: inventory.ObjectMasterKey,
		Summary: fmt.Sprintf("%d keys re-encrypted under master key %s", n, ring.KeyID()),
	})
}
