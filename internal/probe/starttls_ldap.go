package probe

import (
	"fmt"
	"io"
	"net"
	"time"
)

// ldapStartTLSRequest returns the LDAPMessage (RFC 4511 section 4.12) with
// messageID 1 and an ExtendedRequest [APPLICATION 23] whose requestName
// [0] is the StartTLS OID 1.3.6.1.4.1.1466.20037 (RFC 4511 section
// 4.14.1).
func ldapStartTLSRequest() []byte {
	return append([]byte{
		0x30, 0x1d, // LDAPMessage SEQUENCE
		0x02, 0x01, 0x01, // messageID 1
		0x77, 0x18, // [APPLICATION 23] ExtendedRequest
		0x80, 0x16, // [0] requestName
	}, "1.3.6.1.4.1.1466.20037"...)
}

// BER tags the ExtendedResponse uses.
const (
	berSequence          = 0x30
	berInteger           = 0x02
	berEnumerated        = 0x0a
	berExtendedResponse  = 0x78 // [APPLICATION 24], constructed
	berOctetString       = 0x04
	ldapResultSuccess    = 0
	ldapMaxResultCodeLen = 4
)

// startLDAP sends the StartTLS extended operation (RFC 4513 section 3)
// and reads the ExtendedResponse: resultCode success starts TLS.
func startLDAP(conn net.Conn, _ string, deadline time.Time) error {
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write(ldapStartTLSRequest()); err != nil {
		return ldapFail(err, "sending the StartTLS request: %s", innermost(err))
	}
	msg, err := readBER(conn, berSequence)
	if err != nil {
		return err
	}
	return ldapResult(msg)
}

func ldapFail(err error, format string, args ...any) *StartTLSError {
	return &StartTLSError{Protocol: StartTLSLDAP, Reason: fmt.Sprintf(format, args...), Err: err}
}

// readBER reads one BER element with a one-byte tag and a definite length
// of at most maxRead bytes (short or long form, minimal or not, as
// OpenLDAP writes it) from r and returns its contents.
func readBER(r io.Reader, want byte) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, ldapFail(err, "reading the StartTLS response: %s", innermost(err))
	}
	if hdr[0] != want {
		return nil, ldapFail(nil, "the answer is not an LDAP message (it starts %#02x)", hdr[0])
	}
	n := int(hdr[1])
	if n&0x80 != 0 {
		size := n & 0x7f
		if size == 0 || size > 4 {
			return nil, ldapFail(nil, "the answer has an unsupported BER length form")
		}
		lenBytes := make([]byte, size)
		if _, err := io.ReadFull(r, lenBytes); err != nil {
			return nil, ldapFail(err, "reading the StartTLS response: %s", innermost(err))
		}
		n = 0
		for _, b := range lenBytes {
			n = n<<8 | int(b)
		}
	}
	if n > maxRead {
		return nil, ldapFail(nil, "the answer is longer than %d KiB", maxRead>>10)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, ldapFail(err, "reading the StartTLS response: %s", innermost(err))
	}
	return body, nil
}

// ldapResult reads the resultCode of an LDAPMessage's ExtendedResponse
// (messageID, [APPLICATION 24] { resultCode, matchedDN,
// diagnosticMessage, ... }).
func ldapResult(msg []byte) error {
	errMalformed := ldapFail(nil, "malformed StartTLS response")
	if _, rest, ok := berElement(msg, berInteger); !ok {
		return errMalformed
	} else if op, _, ok := berElement(rest, berExtendedResponse); !ok {
		return errMalformed
	} else if code, rest, ok := berElement(op, berEnumerated); !ok || len(code) == 0 || len(code) > ldapMaxResultCodeLen {
		return errMalformed
	} else if rc := berInt(code); rc != ldapResultSuccess {
		return ldapFail(nil, "StartTLS refused: result code %d%s", rc, ldapDiagnostic(rest))
	}
	return nil
}

// ldapDiagnostic returns ": MESSAGE" for the diagnosticMessage after the
// matchedDN, or "" when there is none.
func ldapDiagnostic(b []byte) string {
	_, rest, ok := berElement(b, berOctetString)
	if !ok {
		return ""
	}
	if diag, _, ok := berElement(rest, berOctetString); ok && len(diag) > 0 {
		return " (" + clip(string(diag)) + ")"
	}
	return ""
}

// berElement splits off the first element of b when its tag is want.
func berElement(b []byte, want byte) (content, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != want {
		return nil, nil, false
	}
	n, hdr := int(b[1]), 2
	if n&0x80 != 0 {
		size := n & 0x7f
		if size == 0 || size > 4 || len(b) < 2+size {
			return nil, nil, false
		}
		n = 0
		for _, c := range b[2 : 2+size] {
			n = n<<8 | int(c)
		}
		hdr += size
	}
	if n < 0 || n > len(b)-hdr {
		return nil, nil, false
	}
	return b[hdr : hdr+n], b[hdr+n:], true
}

// berInt decodes a short two's-complement integer.
func berInt(b []byte) int {
	v := int(int8(b[0]))
	for _, c := range b[1:] {
		v = v<<8 | int(c)
	}
	return v
}
