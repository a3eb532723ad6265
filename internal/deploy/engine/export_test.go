package engine

import (
	"testing"
	"time"
)

// SetSettle lowers how long Run waits for a check to settle, and how
// often it checks meanwhile, until the test ends.
func SetSettle(t testing.TB, settle, interval time.Duration) {
	oldSettle, oldInterval := checkSettle, checkInterval
	checkSettle, checkInterval = settle, interval
	t.Cleanup(func() { checkSettle, checkInterval = oldSettle, oldInterval })
}
