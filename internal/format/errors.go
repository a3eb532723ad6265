package format

import (
	"fmt"
	"strings"
)

// Error is a decode or encode failure in one format. Its message is one
// lower-case line, "format: <format>: <what>", and never holds key
// material or a password.
type Error struct {
	// Format names the container ("pem", "pkcs12", "jks" ...) or, for
	// Encode, the target; empty when the format is unknown.
	Format string
	// Msg says what went wrong.
	Msg string
	// Err is the sentinel it wraps (ErrWrongPassword, ErrMalformed ...),
	// or nil.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Format == "" {
		return "format: " + e.Msg
	}
	return "format: " + e.Format + ": " + e.Msg
}

// Unwrap returns the wrapped sentinel so that errors.Is works.
func (e *Error) Unwrap() error { return e.Err }

// errorf builds an *Error wrapping sentinel (which may be nil).
func errorf(format string, sentinel error, msg string, args ...any) *Error {
	return &Error{Format: format, Msg: oneLine(fmt.Sprintf(msg, args...)), Err: sentinel}
}

// malformedf reports structurally broken input of one format.
func malformedf(format, msg string, args ...any) *Error {
	return errorf(format, ErrMalformed, msg, args...)
}

// wrongPassword reports a failed integrity check or decryption.
func wrongPassword(format string) *Error {
	return errorf(format, ErrWrongPassword, "wrong password or corrupted file")
}

// passwordNeeded reports encrypted input read without a password.
func passwordNeeded(format string) *Error {
	return errorf(format, ErrPasswordNeeded, "password needed")
}

// libError turns a third-party library error into a one-line detail
// without the library's own "pkcs12: " style prefix.
func libError(err error, prefixes ...string) string {
	s := err.Error()
	for _, p := range prefixes {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// oneLine keeps the first line of s so that error messages stay on one line.
func oneLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}
