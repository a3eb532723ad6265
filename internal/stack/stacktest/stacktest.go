// Package stacktest builds certkeeper stacks for tests, over the same
// composition root (package stack) that the serve command and the local
// command line use.
package stacktest

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/users"
)

// FastPasswords returns argon2id costs low enough for tests.
func FastPasswords() *users.Params { return &users.Params{Memory: 64, Time: 1, Threads: 1} }

// New returns the services of cfg over st. A nil st is a fresh SQLite
// inventory in a temporary directory. Unless cfg says otherwise, keys are
// sealed under Sealer's fixed master key, passwords are hashed with
// FastPasswords and the log goes to t.Log.
func New(t testing.TB, st inventory.Store, cfg stack.Config) *stack.Stack {
	t.Helper()
	if st == nil {
		st = OpenSQLite(t)
	}
	if cfg.PasswordParams == nil {
		cfg.PasswordParams = FastPasswords()
	}
	if cfg.Log == nil {
		cfg.Log = Logger(t)
	}
	s, err := stack.New(context.Background(), st, Sealer(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// OpenSQLite opens a fresh SQLite inventory in a temporary directory,
// closed when the test ends.
func OpenSQLite(t testing.TB) inventory.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Sealer returns a sealer over a fixed master key, the same for every
// call.
func Sealer(t testing.TB) *keys.Sealer {
	t.Helper()
	s, err := keys.NewSealer(nil, bytes.Repeat([]byte{7}, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Logger sends a log to t.Log.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
