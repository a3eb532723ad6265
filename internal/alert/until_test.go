package alert_test

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/certkeeper/certkeeper/internal/alert"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func TestParseUntil(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"36h", now.Add(36 * time.Hour)},
		{" 3d ", now.Add(72 * time.Hour)},
		{"2026-06-02T08:00:00+02:00", time.Date(2026, 6, 2, 6, 0, 0, 0, time.UTC)},
		{"2026-06-05", time.Date(2026, 6, 5, 0, 0, 0, 0, time.UTC)},
	} {
		if got, err := alert.ParseUntil(tc.in, now); err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseUntil(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "-3h", "0d", "91d", "tomorrow", "2026-13-01"} {
		if _, err := alert.ParseUntil(in, now); !errors.Is(err, inventory.ErrInvalid) {
			t.Errorf("ParseUntil(%q) err = %v, want ErrInvalid", in, err)
		}
	}
}

// FuzzParseUntil checks that any text gives a time or a one-line
// FieldError, never a panic.
func FuzzParseUntil(f *testing.F) {
	for _, s := range []string{"36h", "3d", "2026-06-02T08:00:00Z", "2026-06-02", "9999999999d", "1e9h", "\n"} {
		f.Add(s)
	}
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		_, err := alert.ParseUntil(s, now)
		var fe *inventory.FieldError
		if err != nil && (!errors.As(err, &fe) || fe.Field != "until") {
			t.Fatalf("ParseUntil(%q) err = %v, want a FieldError for until", s, err)
		}
		if err != nil && !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
			t.Fatalf("ParseUntil(%q) error is not valid UTF-8: %q", s, err)
		}
	})
}
