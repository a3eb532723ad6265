package probe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// MySQL capability flags (MySQL client/server protocol, "Capabilities
// Flags").
const (
	mysqlLongPassword     = 0x00000001
	mysqlProtocol41       = 0x00000200
	mysqlSSL              = 0x00000800
	mysqlSecureConnection = 0x00008000
	mysqlMaxPacket        = 1 << 24
	mysqlCharsetUTF8MB4   = 45
)

// startMySQL reads the server's initial handshake packet, checks its
// CLIENT_SSL capability and answers with an SSL request packet, after
// which the server expects a TLS handshake (MySQL and MariaDB alike).
func startMySQL(conn net.Conn, _ string, deadline time.Time) error {
	_ = conn.SetDeadline(deadline)
	seq, payload, err := readMySQLPacket(conn)
	if err != nil {
		return err
	}
	caps, err := mysqlCapabilities(payload)
	if err != nil {
		return err
	}
	if caps&mysqlSSL == 0 {
		return mysqlFail(nil, "the server does not offer SSL")
	}
	if _, err := conn.Write(mysqlSSLRequest(seq + 1)); err != nil {
		return mysqlFail(err, "sending the SSL request: %s", innermost(err))
	}
	return nil
}

func mysqlFail(err error, format string, args ...any) *StartTLSError {
	return &StartTLSError{Protocol: StartTLSMySQL, Reason: fmt.Sprintf(format, args...), Err: err}
}

// readMySQLPacket reads one packet: a 3-byte little-endian length, a
// sequence number, the payload (at most maxRead bytes here).
func readMySQLPacket(r io.Reader) (byte, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, mysqlFail(err, "reading the handshake: %s", innermost(err))
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if n > maxRead {
		return 0, nil, mysqlFail(nil, "the handshake packet is longer than %d KiB", maxRead>>10)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, mysqlFail(err, "reading the handshake: %s", innermost(err))
	}
	return hdr[3], payload, nil
}

// mysqlCapabilities returns the lower capability flags of a protocol 10
// initial handshake: version 10, server version (NUL-terminated),
// connection ID (4), auth-plugin-data part 1 (8), filler (1), flags (2).
func mysqlCapabilities(p []byte) (uint32, error) {
	if len(p) > 0 && p[0] == 0xff {
		msg := p[1:]
		if len(msg) > 2 {
			msg = msg[2:] // the error code
		}
		return 0, mysqlFail(nil, "the server refused the connection: %s", clip(string(msg)))
	}
	if len(p) == 0 || p[0] != 10 {
		return 0, mysqlFail(nil, "not a MySQL protocol 10 handshake")
	}
	end := bytes.IndexByte(p[1:], 0)
	off := 1 + end + 1 + 4 + 8 + 1
	if end < 0 || len(p) < off+2 {
		return 0, mysqlFail(nil, "the handshake packet is truncated")
	}
	return uint32(binary.LittleEndian.Uint16(p[off:])), nil
}

// mysqlSSLRequest is the 32-byte SSL request packet: client flags, max
// packet size, character set, 23 zero bytes.
func mysqlSSLRequest(seq byte) []byte {
	b := []byte{32, 0, 0, seq}
	b = binary.LittleEndian.AppendUint32(b, mysqlLongPassword|mysqlProtocol41|mysqlSSL|mysqlSecureConnection)
	b = binary.LittleEndian.AppendUint32(b, mysqlMaxPacket)
	b = append(b, mysqlCharsetUTF8MB4)
	return append(b, make([]byte, 23)...)
}
