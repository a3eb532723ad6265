package probe

import (
	"net"
	"strings"
	"time"
)

// startSMTP upgrades an SMTP session (RFC 3207): the 220 greeting, EHLO,
// STARTTLS among the extensions, STARTTLS answered 220.
func startSMTP(conn net.Conn, _ string, deadline time.Time) error {
	l := newLineConn(conn, StartTLSSMTP, deadline)
	code, text, err := l.readReply("greeting")
	if err != nil {
		return err
	}
	if code != 220 {
		return l.fail(nil, "the server greeted with %d %s", code, clip(text[0]))
	}
	if err := l.send("EHLO certkeeper.invalid"); err != nil {
		return err
	}
	if code, text, err = l.readReply("EHLO reply"); err != nil {
		return err
	} else if code != 250 {
		return l.fail(nil, "EHLO refused: %d %s", code, clip(text[0]))
	}
	if !hasExtension(text[1:], "STARTTLS") {
		return l.fail(nil, "the server does not offer STARTTLS")
	}
	if err := l.send("STARTTLS"); err != nil {
		return err
	}
	if code, text, err = l.readReply("STARTTLS reply"); err != nil {
		return err
	} else if code != 220 {
		return l.fail(nil, "STARTTLS refused: %d %s", code, clip(text[0]))
	}
	return nil
}

// hasExtension reports whether an EHLO reply's extension lines name ext.
func hasExtension(lines []string, ext string) bool {
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], ext) {
			return true
		}
	}
	return false
}
