package main

import (
	"strings"
	"testing"
)

// TestTargetCheckStartTLS: --check-starttls sets the protocol the check
// upgrades with, "target show" says it, and an unknown protocol is
// refused in one line and changes nothing.
func TestTargetCheckStartTLS(t *testing.T) {
	c := newCK(t)
	c.ok("target", "add", "--name", "mx1", "--preset", "generic", "--method", "manual",
		"--check", "mx1.example.test:25", "--check-starttls", "SMTP")
	const want = "mx1.example.test:25 STARTTLS smtp"
	if out := c.ok("target", "show", "mx1"); !strings.Contains(out, want) {
		t.Fatalf("target show:\n%s\nwant %q", out, want)
	}
	var before, after struct {
		Version int64 `json:"version"`
	}
	decodeJSON(t, "target show", c.ok("target", "show", "mx1", "--json"), &before)
	msg := c.fails("target", "edit", "mx1", "--check-starttls", "gopher")
	if !strings.Contains(msg, "check.starttls") || !strings.Contains(msg, `unknown STARTTLS protocol "gopher"`) {
		t.Errorf("edit with an unknown protocol: %s; want the field and the protocol named", msg)
	}
	decodeJSON(t, "target show", c.ok("target", "show", "mx1", "--json"), &after)
	if out := c.ok("target", "show", "mx1"); !strings.Contains(out, want) || after.Version != before.Version {
		t.Errorf("after the refused edit (version %d, was %d):\n%s\nwant %q still", after.Version, before.Version, out, want)
	}
	c.ok("target", "edit", "mx1", "--check-starttls", "none")
	if out := c.ok("target", "show", "mx1"); strings.Contains(out, "STARTTLS") {
		t.Errorf("after --check-starttls none:\n%s\nwant no STARTTLS", out)
	}
}
