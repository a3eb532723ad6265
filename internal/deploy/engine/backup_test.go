package engine

import (
	"regexp"
	"slices"
	"testing"
	"time"
)

func TestBackupNames(t *testing.T) {
	re := regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z$`)
	if s := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC).Format(backupTimeFormat); !re.MatchString(s) || !backupName.MatchString(s) {
		t.Errorf("backup name %q", s)
	}
	names := []string{"20260314T092653Z-10", "20260314T092653Z-2", "20260314T092653Z", "20250101T000000Z"}
	slices.SortFunc(names, compareBackups)
	want := []string{"20250101T000000Z", "20260314T092653Z", "20260314T092653Z-2", "20260314T092653Z-10"}
	if !slices.Equal(names, want) {
		t.Errorf("sorted %q, want %q", names, want)
	}
}
