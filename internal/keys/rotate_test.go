package keys

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// rotateStore holds one sealed key and one sealed target secret.
type rotateStore struct {
	key, secret []byte
	audit       []inventory.AuditEvent
	auditErr    error
}

func (s *rotateStore) RewrapKeys(_ context.Context, rewrap func([]byte) ([]byte, error)) (n int, err error) {
	s.key, err = rewrap(s.key)
	return 1, err
}

func (s *rotateStore) RewrapTargetSecrets(_ context.Context, rewrap func([]byte) ([]byte, error)) (n int, err error) {
	s.secret, err = rewrap(s.secret)
	return 1, err
}

func (s *rotateStore) AppendAudit(_ context.Context, e *inventory.AuditEvent) error {
	if s.auditErr != nil {
		return s.auditErr
	}
	s.audit = append(s.audit, *e)
	return nil
}

func sealedFixture(t *testing.T) (string, *Sealer, *rotateStore) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "master.key")
	s, err := LoadSealer(path, "")
	if err != nil {
		t.Fatal(err)
	}
	st := &rotateStore{}
	st.key, _ = s.Seal([]byte("key"), nil)
	st.secret, _ = s.Seal([]byte("secret"), nil)
	return path, s, st
}

func TestRotate(t *testing.T) {
	path, old, st := sealedFixture(t)
	other, _ := old.Seal([]byte("password"), nil)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	rot, err := Rotate(context.Background(), st, path, "cli:root", func() time.Time { return now },
		func(_ context.Context, rewrap func([]byte) ([]byte, error)) (err error) {
			other, err = rewrap(other)
			return err
		})
	if err != nil {
		t.Fatal(err)
	}
	if rot.Keys != 1 || rot.Sealer.KeyID() == old.KeyID() || Pending(path) {
		t.Fatalf("rotation = %+v, pending %v; want 1 key under a new, committed master key", rot, Pending(path))
	}
	after, err := LoadSealer(path, "")
	if err != nil || after.KeyID() != rot.Sealer.KeyID() {
		t.Fatalf("master key file after rotation: %v", err)
	}
	for name, sealed := range map[string][]byte{"key": st.key, "secret": st.secret, "password": other} {
		if got, err := after.Open(sealed, nil); err != nil || string(got) != name {
			t.Errorf("%s under the new key = %q, %v", name, got, err)
		}
	}
	if len(st.audit) != 1 || st.audit[0].Action != "masterkey.rotate" || st.audit[0].Actor != "cli:root" ||
		!st.audit[0].Time.Equal(now) || st.audit[0].Object != inventory.ObjectMasterKey {
		t.Errorf("audit = %+v, want one masterkey.rotate by cli:root", st.audit)
	}
}

// TestRotateFailureKeepsOldKey checks that a failed re-wrap commits
// nothing: the old master key stays, the new one pending, nothing audited.
func TestRotateFailureKeepsOldKey(t *testing.T) {
	path, old, st := sealedFixture(t)
	boom := errors.New("boom")
	rot, err := Rotate(context.Background(), st, path, "cli:root", time.Now,
		func(context.Context, func([]byte) ([]byte, error)) error { return boom })
	if !errors.Is(err, boom) || rot != nil {
		t.Fatalf("Rotate = %v, %v; want the error", rot, err)
	}
	if !Pending(path) || len(st.audit) != 0 {
		t.Errorf("pending %v, audit %v; want the new key pending and nothing audited", Pending(path), st.audit)
	}
	if current, err := readMaster(path); err != nil || sealerOf(t, current).KeyID() != old.KeyID() {
		t.Errorf("master key changed after a failed rotation (%v)", err)
	}
}

// TestRotateAuditFailure returns the done rotation with the error.
func TestRotateAuditFailure(t *testing.T) {
	path, _, st := sealedFixture(t)
	st.auditErr = errors.New("audit down")
	rot, err := Rotate(context.Background(), st, path, "cli:root", time.Now)
	if err == nil || rot == nil || Pending(path) {
		t.Errorf("Rotate = %+v, %v; want the committed rotation and the audit error", rot, err)
	}
}

func sealerOf(t *testing.T, master []byte) *Sealer {
	t.Helper()
	s, err := NewSealer(nil, master)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
