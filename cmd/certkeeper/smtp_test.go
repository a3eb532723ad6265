package main

import (
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// mailbox is the shared test SMTP server (testenv.SMTPServer) taking
// every message without authentication or TLS, as a loopback relay
// would.
type mailbox struct{ *testenv.SMTPServer }

// newMailbox starts the server; it stops when the test ends.
func newMailbox(t *testing.T) mailbox {
	t.Helper()
	return mailbox{testenv.NewSMTPServer(t, testenv.SMTPOptions{Security: "none"})}
}

// wait returns the messages once there are at least n, or what there is
// after timeout.
func (mb mailbox) wait(n int, timeout time.Duration) []testenv.SMTPMessage {
	return mb.Wait(n, timeout)
}
