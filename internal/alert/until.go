package alert

import (
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// ParseUntil reads the end of a silence as people type it: a duration
// from now ("36h", "90m", or whole days as "3d"), an RFC 3339 time
// ("2026-06-02T08:00:00Z") or a date ("2026-06-02", midnight UTC). Bad
// text gives an inventory.FieldError for "until".
func ParseUntil(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 && n <= int(MaxSilence/day) {
			return now.Add(time.Duration(n) * day), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 && d <= MaxSilence {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, inventory.Invalid("until", "until %q: want a duration (36h, 3d), an RFC 3339 time or a date (2006-01-02)",
		truncate(s, 40))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
