package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestIsRetryable: serialization failures and deadlocks, however
// wrapped, are retried; other errors are not.
func TestIsRetryable(t *testing.T) {
	for code, want := range map[string]bool{"40001": true, "40P01": true, "23505": false} {
		err := fmt.Errorf("store: claim job: %w", &pgconn.PgError{Code: code})
		if got := isRetryable(err); got != want {
			t.Errorf("isRetryable(%s) = %v, want %v", code, got, want)
		}
	}
	if isRetryable(errors.New("disk full")) || isRetryable(nil) {
		t.Error("a plain error or nil is retryable")
	}
}
