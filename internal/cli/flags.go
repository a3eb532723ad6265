package cli

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// secretFlag is a password given on the command line or, better, in a
// file (so it stays out of the process list and shell history).
type secretFlag struct {
	name  string
	value string
	file  string
}

func (s *secretFlag) bind(cmd *cobra.Command, name, what string) {
	s.name = name
	cmd.Flags().StringVar(&s.value, name, "", what)
	cmd.Flags().StringVar(&s.file, name+"-file", "", what+", read from the first line of this file")
}

// bytes returns the secret, or nil when neither flag was given (an empty
// --password "" gives an empty, non-nil password).
func (s *secretFlag) bytes(cmd *cobra.Command) ([]byte, error) {
	if s.file != "" {
		b, err := os.ReadFile(s.file)
		if err != nil {
			return nil, fmt.Errorf("password file: %w", err)
		}
		line, _, _ := bytes.Cut(b, []byte("\n"))
		return bytes.TrimSuffix(line, []byte("\r")), nil
	}
	if cmd.Flags().Changed(s.name) {
		return []byte(s.value), nil
	}
	return nil, nil
}

// parseDays reads a duration written as days ("30d", "30") or as a Go
// duration ("720h").
func parseDays(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.Atoi(strings.TrimSuffix(t, "d")); err == nil {
		if n < 0 || n > 36500 {
			return 0, fmt.Errorf("%q: days must be between 0 and 36500", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration: write days like 30d, or hours like 12h", s)
	}
	return d, nil
}

// daysLeft is the whole number of days from now until t, negative when t
// has passed.
func daysLeft(now, t time.Time) int {
	d := t.Sub(now)
	if d < 0 {
		return -int((-d).Hours() / 24)
	}
	return int(d.Hours() / 24)
}

// colonHex writes a hex fingerprint as colon-separated upper-case pairs,
// the way openssl prints it.
func colonHex(h string) string {
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.ToUpper(h[i:min(i+2, len(h))]))
	}
	return b.String()
}
