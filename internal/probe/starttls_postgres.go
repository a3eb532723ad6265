package probe

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// postgresSSLRequest is the code of PostgreSQL's SSLRequest message
// (protocol 3, "Message Formats").
const postgresSSLRequest = 80877103

// startPostgres sends an SSLRequest and expects 'S' (the server starts
// TLS); 'N' means the server does not accept SSL.
func startPostgres(conn net.Conn, _ string, deadline time.Time) error {
	_ = conn.SetDeadline(deadline)
	fail := func(err error, format string, args ...any) error {
		return &StartTLSError{Protocol: StartTLSPostgres, Reason: fmt.Sprintf(format, args...), Err: err}
	}
	req := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 8), postgresSSLRequest)
	if _, err := conn.Write(req); err != nil {
		return fail(err, "sending the SSLRequest: %s", innermost(err))
	}
	var answer [1]byte
	if _, err := io.ReadFull(conn, answer[:]); err != nil {
		return fail(err, "reading the SSLRequest answer: %s", innermost(err))
	}
	switch answer[0] {
	case 'S':
		return nil
	case 'N':
		return fail(nil, "the server does not accept SSL")
	case 'E':
		return fail(nil, "the server answered the SSLRequest with an error (a server older than protocol 3?)")
	}
	return fail(nil, "unexpected answer %q to the SSLRequest", printable(answer[:]))
}
