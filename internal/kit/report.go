package kit

import (
	"fmt"
	"io"
)

// Status is the outcome of one check.
type Status string

// Check outcomes.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	// Skip marks a check that could not run (its reason is the message).
	Skip Status = "skip"
)

// Check codes, stable in JSON output.
const (
	CheckKeyMatch  = "key_match"
	CheckValidity  = "validity"
	CheckUsage     = "key_usage"
	CheckNames     = "server_names"
	CheckOwnChain  = "own_chain"
	CheckSameRoot  = "same_root"
	CheckTrust     = "trust"
	CheckHandshake = "handshake"
	CheckFiles     = "layout_files"
)

// Check is one finding of a verification.
type Check struct {
	// Code is one of the Check* constants.
	Code string `json:"code"`
	// Subject says what was checked: "server", "client ws1",
	// "server <- client ws1" (the server accepting the client).
	Subject string `json:"subject"`
	Status  Status `json:"status"`
	// Message explains the result in plain words.
	Message string `json:"message"`
}

// Report is the result of a verification.
type Report struct {
	Checks []Check `json:"checks"`
}

func (r *Report) add(code, subject string, st Status, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Code: code, Subject: subject, Status: st, Message: fmt.Sprintf(format, args...)})
}

// Count returns how many checks ended with st.
func (r *Report) Count(st Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == st {
			n++
		}
	}
	return n
}

// OK reports whether no check failed.
func (r *Report) OK() bool { return r.Count(Fail) == 0 }

// WriteText prints one line per check: status, subject, message.
func (r *Report) WriteText(w io.Writer) error {
	for _, c := range r.Checks {
		if _, err := fmt.Fprintf(w, "%-4s  %s: %s\n", upper(c.Status), c.Subject, c.Message); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%d passed, %d warnings, %d failed, %d skipped\n",
		r.Count(Pass), r.Count(Warn), r.Count(Fail), r.Count(Skip))
	return err
}

func upper(s Status) string {
	switch s {
	case Pass:
		return "PASS"
	case Warn:
		return "WARN"
	case Fail:
		return "FAIL"
	}
	return "SKIP"
}
