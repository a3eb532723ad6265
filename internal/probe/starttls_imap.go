package probe

import (
	"net"
	"strings"
	"time"
)

// maxIMAPLines bounds the untagged lines skipped while waiting for the
// STARTTLS command's tagged answer.
const maxIMAPLines = 100

// startIMAP upgrades an IMAP session (RFC 9051 section 6.2.1): the "* OK"
// greeting, "a1 STARTTLS" answered "a1 OK".
func startIMAP(conn net.Conn, _ string, deadline time.Time) error {
	l := newLineConn(conn, StartTLSIMAP, deadline)
	line, _, err := l.readLine(maxRead)
	if err != nil {
		return l.ioFail(err, "reading the greeting")
	}
	if !strings.HasPrefix(strings.ToUpper(line), "* OK") {
		return l.fail(nil, "the server greeted with %q", clip(line))
	}
	if err := l.send("a1 STARTTLS"); err != nil {
		return err
	}
	for range maxIMAPLines {
		if line, _, err = l.readLine(maxRead); err != nil {
			return l.ioFail(err, "reading the STARTTLS reply")
		}
		if !strings.HasPrefix(line, "a1 ") {
			continue // untagged data, e.g. a CAPABILITY
		}
		if strings.HasPrefix(strings.ToUpper(line), "A1 OK") {
			return nil
		}
		return l.fail(nil, "STARTTLS refused: %s", clip(strings.TrimPrefix(line, "a1 ")))
	}
	return l.fail(nil, "no answer to STARTTLS after %d lines", maxIMAPLines)
}
