package store

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestDeadlockIsRetried: two transactions that lock two rows in opposite
// orders deadlock on PostgreSQL; the one PostgreSQL aborts (40P01) is
// tried again and both commit, each change made exactly once.
func TestDeadlockIsRetried(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, testenv.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, k := range []string{"a", "b"} {
		if err := st.PutSetting(ctx, "deadlock."+k, []byte("0")); err != nil {
			t.Fatal(err)
		}
	}
	var (
		both  sync.WaitGroup
		tries atomic.Int32
		errs  = make(chan error, 2)
	)
	both.Add(2)
	// lock takes first, waits (on the first try only) until the other
	// transaction holds its first row too, then takes second.
	lock := func(first, second, value string) {
		var once sync.Once
		errs <- st.InTx(ctx, func(tx inventory.Store) error {
			tries.Add(1)
			if err := tx.PutSetting(ctx, "deadlock."+first, []byte(value)); err != nil {
				return err
			}
			once.Do(func() { both.Done(); both.Wait() })
			return tx.PutSetting(ctx, "deadlock."+second, []byte(value))
		})
	}
	go lock("a", "b", "1")
	go lock("b", "a", "2")
	for range 2 {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatalf("a transaction failed: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the transactions did not finish")
		}
	}
	if n := tries.Load(); n < 3 {
		t.Errorf("%d tries, want at least 3 (the deadlock's victim tried again)", n)
	}
	a, _ := st.GetSetting(ctx, "deadlock.a")
	b, _ := st.GetSetting(ctx, "deadlock.b")
	if string(a) != string(b) {
		t.Errorf("a = %s, b = %s: the retried transaction did not write both rows", a, b)
	}
}
