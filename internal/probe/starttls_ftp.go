package probe

import (
	"net"
	"time"
)

// startFTP upgrades an FTP control connection (RFC 4217): the 220
// greeting (after any 120 "ready in a moment"), AUTH TLS answered 234.
func startFTP(conn net.Conn, _ string, deadline time.Time) error {
	l := newLineConn(conn, StartTLSFTP, deadline)
	code, text, err := l.readReply("greeting")
	for err == nil && code == 120 {
		code, text, err = l.readReply("greeting")
	}
	if err != nil {
		return err
	}
	if code != 220 {
		return l.fail(nil, "the server greeted with %d %s", code, clip(text[0]))
	}
	if err := l.send("AUTH TLS"); err != nil {
		return err
	}
	if code, text, err = l.readReply("AUTH TLS reply"); err != nil {
		return err
	} else if ftpNoTLS(code) {
		return l.fail(nil, "the server does not offer TLS (AUTH TLS answered %d %s)", code, clip(text[0]))
	} else if code != 234 {
		return l.fail(nil, "AUTH TLS refused: %d %s", code, clip(text[0]))
	}
	return nil
}

// ftpNoTLS reports whether code answers AUTH TLS from a server with no TLS
// to offer (RFC 4217 section 4): the command unknown (500) or not
// implemented (502, 504), refused by policy (534), or "please log in"
// (530), which vsftpd without ssl_enable answers to every command.
func ftpNoTLS(code int) bool {
	switch code {
	case 500, 502, 504, 530, 534:
		return true
	}
	return false
}
