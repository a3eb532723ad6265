package probe

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// XMPP namespaces (RFC 6120 sections 4.8 and 5.4).
const (
	xmppStreamsNS = "http://etherx.jabber.org/streams"
	xmppTLSNS     = "urn:ietf:params:xml:ns:xmpp-tls"
)

// startXMPP opens a client stream to serverName (RFC 6120 section 5.4):
// the stream header, <starttls/> among the stream features, then
// <starttls/> answered by <proceed/>. Everything the server sends before
// TLS counts against maxRead bytes.
func startXMPP(conn net.Conn, serverName string, deadline time.Time) error {
	_ = conn.SetDeadline(deadline)
	header := fmt.Sprintf("<?xml version='1.0'?><stream:stream to='%s' version='1.0' xmlns='jabber:client' xmlns:stream='%s'>",
		xmlEscape(serverName), xmppStreamsNS)
	if _, err := io.WriteString(conn, header); err != nil {
		return xmppFail(err, "sending the stream header: %s", innermost(err))
	}
	d := xml.NewDecoder(bufio.NewReader(io.LimitReader(conn, maxRead)))
	offered, err := xmppFeatures(d)
	if err != nil {
		return err
	}
	if !offered {
		return xmppFail(nil, "the server does not offer STARTTLS")
	}
	if _, err := io.WriteString(conn, "<starttls xmlns='"+xmppTLSNS+"'/>"); err != nil {
		return xmppFail(err, "sending <starttls/>: %s", innermost(err))
	}
	el, err := xmppNext(d, "the answer to <starttls/>")
	if err != nil {
		return err
	}
	if el.Name.Space != xmppTLSNS || el.Name.Local != "proceed" {
		return xmppFail(nil, "STARTTLS refused: the server answered <%s/>", el.Name.Local)
	}
	return nil
}

func xmppFail(err error, format string, args ...any) *StartTLSError {
	return &StartTLSError{Protocol: StartTLSXMPP, Reason: fmt.Sprintf(format, args...), Err: err}
}

// xmppFeatures reads the server's stream header and its <features/>, and
// reports whether they hold <starttls/>.
func xmppFeatures(d *xml.Decoder) (bool, error) {
	el, err := xmppNext(d, "the stream header")
	if err != nil {
		return false, err
	}
	if el.Name.Space != xmppStreamsNS || el.Name.Local != "stream" {
		return false, xmppFail(nil, "the server did not open an XMPP stream (it sent <%s>)", el.Name.Local)
	}
	if el, err = xmppNext(d, "the stream features"); err != nil {
		return false, err
	}
	if el.Name.Space == xmppStreamsNS && el.Name.Local == "error" {
		return false, xmppFail(nil, "the server sent a stream error%s", xmppCondition(d))
	}
	if el.Name.Space != xmppStreamsNS || el.Name.Local != "features" {
		return false, xmppFail(nil, "the server sent <%s> instead of its stream features", el.Name.Local)
	}
	return xmppHasStartTLS(d)
}

// xmppHasStartTLS reads the children of <features/> up to its end.
func xmppHasStartTLS(d *xml.Decoder) (bool, error) {
	offered := false
	for depth := 1; depth > 0; {
		tok, err := d.Token()
		if err != nil {
			return false, xmppReadFail(err, "the stream features")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 1 && t.Name.Space == xmppTLSNS && t.Name.Local == "starttls" {
				offered = true
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return offered, nil
}

// xmppNext returns the next start element.
func xmppNext(d *xml.Decoder, what string) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, xmppReadFail(err, what)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.EndElement:
			return xml.StartElement{}, xmppFail(nil, "the server closed the stream before %s", what)
		}
	}
}

// xmppCondition names a stream error's condition, ": CONDITION", or "".
func xmppCondition(d *xml.Decoder) string {
	if el, err := xmppNext(d, "the error condition"); err == nil {
		return ": " + el.Name.Local
	}
	return ""
}

func xmppReadFail(err error, what string) *StartTLSError {
	var syn *xml.SyntaxError
	switch {
	case errors.As(err, &syn):
		return xmppFail(err, "reading %s: not XMPP (%s)", what, syn.Msg)
	case errors.Is(err, io.EOF):
		return xmppFail(err, "reading %s: the connection closed (or the server sent more than %d KiB)", what, maxRead>>10)
	}
	return xmppFail(err, "reading %s: %s", what, innermost(err))
}

// xmlEscape escapes s for an attribute value in single quotes.
func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
