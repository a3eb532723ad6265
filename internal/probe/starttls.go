package probe

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// StartTLS names a protocol whose plain-text dialogue is upgraded to TLS
// before the handshake (STARTTLS and its relatives). The zero value, "",
// starts TLS at once.
type StartTLS string

// The protocols a probe can upgrade, and "auto", which picks one by port.
const (
	StartTLSNone     StartTLS = ""
	StartTLSAuto     StartTLS = "auto"
	StartTLSSMTP     StartTLS = "smtp"     // RFC 3207
	StartTLSIMAP     StartTLS = "imap"     // RFC 3501/9051
	StartTLSPOP3     StartTLS = "pop3"     // RFC 2595
	StartTLSFTP      StartTLS = "ftp"      // RFC 4217
	StartTLSLDAP     StartTLS = "ldap"     // RFC 4511/4513
	StartTLSXMPP     StartTLS = "xmpp"     // RFC 6120 (client-to-server)
	StartTLSPostgres StartTLS = "postgres" // SSLRequest
	StartTLSMySQL    StartTLS = "mysql"    // SSL request packet (MySQL, MariaDB)
)

// upgrader performs a protocol's upgrade dialogue on the plain conn, to
// serverName, giving up at deadline. It returns nil when the server agreed
// to start TLS, else a *StartTLSError.
type upgrader func(conn net.Conn, serverName string, deadline time.Time) error

// upgraderFor returns p's dialogue, nil for none or an unknown protocol.
func upgraderFor(p StartTLS) upgrader {
	switch p {
	case StartTLSSMTP:
		return startSMTP
	case StartTLSIMAP:
		return startIMAP
	case StartTLSPOP3:
		return startPOP3
	case StartTLSFTP:
		return startFTP
	case StartTLSLDAP:
		return startLDAP
	case StartTLSXMPP:
		return startXMPP
	case StartTLSPostgres:
		return startPostgres
	case StartTLSMySQL:
		return startMySQL
	}
	return nil
}

// StartTLSProtocols lists the values ParseStartTLS accepts, "" excepted.
func StartTLSProtocols() []StartTLS {
	return []StartTLS{StartTLSAuto, StartTLSSMTP, StartTLSIMAP, StartTLSPOP3, StartTLSFTP,
		StartTLSLDAP, StartTLSXMPP, StartTLSPostgres, StartTLSMySQL}
}

// ParseStartTLS checks a protocol name as people type it ("" and "none"
// mean none).
func ParseStartTLS(s string) (StartTLS, error) {
	p := StartTLS(strings.ToLower(strings.TrimSpace(s)))
	if p == "none" || p == StartTLSNone {
		return StartTLSNone, nil
	}
	if p == StartTLSAuto || upgraderFor(p) != nil {
		return p, nil
	}
	names := make([]string, 0, 9)
	for _, q := range StartTLSProtocols() {
		names = append(names, string(q))
	}
	return "", fmt.Errorf("unknown STARTTLS protocol %q (want one of %s)", s, strings.Join(names, ", "))
}

// ForPort resolves StartTLSAuto by port (25 and 587 smtp, 143 imap, 110
// pop3, 21 ftp, 389 ldap, 5222 xmpp, 5432 postgres, 3306 mysql, otherwise
// none); any other value is returned as is.
func (s StartTLS) ForPort(port string) StartTLS {
	if s != StartTLSAuto {
		return s
	}
	switch port {
	case "25", "587":
		return StartTLSSMTP
	case "143":
		return StartTLSIMAP
	case "110":
		return StartTLSPOP3
	case "21":
		return StartTLSFTP
	case "389":
		return StartTLSLDAP
	case "5222":
		return StartTLSXMPP
	case "5432":
		return StartTLSPostgres
	case "3306":
		return StartTLSMySQL
	}
	return StartTLSNone
}

// ErrStartTLS: the plain-text dialogue before the handshake failed, or the
// server refused to start TLS.
var ErrStartTLS = errors.New("probe: STARTTLS failed")

// StartTLSError is a failed upgrade dialogue. Its message is one line,
// "PROTOCOL: what happened".
type StartTLSError struct {
	Protocol StartTLS
	Reason   string
	Err      error // the underlying I/O error, if any
}

func (e *StartTLSError) Error() string { return string(e.Protocol) + ": " + e.Reason }

// Unwrap returns the underlying I/O error, if any.
func (e *StartTLSError) Unwrap() error { return e.Err }

// maxRead caps every line, reply or packet an upgrade dialogue reads.
const maxRead = 64 << 10

// lineConn speaks a line-based protocol (SMTP, IMAP, POP3, FTP) with
// every reply capped at maxRead bytes.
type lineConn struct {
	c     net.Conn
	r     *bufio.Reader
	proto StartTLS
}

func newLineConn(c net.Conn, proto StartTLS, deadline time.Time) *lineConn {
	_ = c.SetDeadline(deadline)
	return &lineConn{c: c, r: bufio.NewReaderSize(c, 4096), proto: proto}
}

func (l *lineConn) fail(err error, format string, args ...any) *StartTLSError {
	return &StartTLSError{Protocol: l.proto, Reason: fmt.Sprintf(format, args...), Err: err}
}

// ioFail explains an I/O error met while doing what.
func (l *lineConn) ioFail(err error, what string) *StartTLSError {
	var se *StartTLSError
	if errors.As(err, &se) {
		return se
	}
	return l.fail(err, "%s: %s", what, innermost(err))
}

// send writes one command line, CRLF added.
func (l *lineConn) send(cmd string) error {
	if _, err := l.c.Write([]byte(cmd + "\r\n")); err != nil {
		return l.ioFail(err, "sending "+strings.Fields(cmd)[0])
	}
	return nil
}

// readLine reads one line, without its line end, of at most budget bytes;
// it returns the bytes it consumed, for the caller's budget.
func (l *lineConn) readLine(budget int) (string, int, error) {
	var line []byte
	for {
		chunk, err := l.r.ReadSlice('\n')
		if len(line)+len(chunk) > budget {
			return "", 0, l.fail(nil, "the server sent more than %d KiB without a line end", maxRead>>10)
		}
		line = append(line, chunk...)
		if err == nil {
			return strings.TrimRight(string(line), "\r\n"), len(line), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", 0, err
		}
	}
}

// readReply reads an SMTP or FTP reply: "CODE text", or "CODE-text"
// lines up to one starting "CODE " (RFC 5321 section 4.2, RFC 959 section
// 4.2). It returns the code and the text of every line, at most maxRead
// bytes in all.
func (l *lineConn) readReply(what string) (int, []string, error) {
	budget := maxRead
	first, n, err := l.readLine(budget)
	if err != nil {
		return 0, nil, l.ioFail(err, "reading the "+what)
	}
	budget -= n
	code, ok := replyCode(first)
	if !ok {
		return 0, nil, l.fail(nil, "the %s is not a reply: %q", what, clip(first))
	}
	lines := []string{first[3:]}
	for len(first) > 3 && first[3] == '-' {
		line, n, err := l.readLine(budget)
		if err != nil {
			return 0, nil, l.ioFail(err, "reading the "+what)
		}
		budget -= n
		lines = append(lines, line)
		if c, ok := replyCode(line); ok && c == code && (len(line) == 3 || line[3] == ' ') {
			break
		}
	}
	for i, s := range lines {
		lines[i] = strings.TrimLeft(strings.TrimPrefix(s, strconv.Itoa(code)), "- ")
	}
	return code, lines, nil
}

func replyCode(line string) (int, bool) {
	if len(line) < 3 || (len(line) > 3 && line[3] != ' ' && line[3] != '-') {
		return 0, false
	}
	code, err := strconv.Atoi(line[:3])
	return code, err == nil && code >= 100 && code <= 599
}

// clip shortens what a server said for a one-line message and shows its
// unprintable bytes as dots.
func clip(s string) string {
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return printable([]byte(s))
}
