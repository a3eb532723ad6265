package probe

import (
	"net"
	"strings"
	"time"
)

// startPOP3 upgrades a POP3 session (RFC 2595 section 4): the +OK
// greeting, STLS answered +OK.
func startPOP3(conn net.Conn, _ string, deadline time.Time) error {
	l := newLineConn(conn, StartTLSPOP3, deadline)
	line, _, err := l.readLine(maxRead)
	if err != nil {
		return l.ioFail(err, "reading the greeting")
	}
	if !strings.HasPrefix(line, "+OK") {
		return l.fail(nil, "the server greeted with %q", clip(line))
	}
	if err := l.send("STLS"); err != nil {
		return err
	}
	if line, _, err = l.readLine(maxRead); err != nil {
		return l.ioFail(err, "reading the STLS reply")
	}
	if !strings.HasPrefix(line, "+OK") {
		return l.fail(nil, "STLS refused: %s", clip(line))
	}
	return nil
}
