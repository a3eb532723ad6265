package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/settings"
)

// deliver sends e through the server of c within ctx's deadline.
//
// Security SecurityStartTLS requires the STARTTLS extension (RFC 3207)
// and fails when the server does not offer it; SecurityTLS uses implicit
// TLS (RFC 8314 section 3.3); SecurityNone sends in the clear. The
// server's certificate is verified against Config.Roots. With a username,
// SMTP AUTH (RFC 4954) uses the best mechanism the server offers; go-mail
// offers PLAIN and LOGIN only over TLS. The connection goes through
// Config.Outbound.
func (s *Service) deliver(ctx context.Context, c *settings.SMTP, password string, e *inventory.Email,
	files []Attachment) error {
	host, portText, err := net.SplitHostPort(c.Host)
	if err != nil {
		return fmt.Errorf("SMTP server %q: %w", c.Host, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("SMTP server %q: bad port", c.Host)
	}
	tc := &tls.Config{ServerName: host, RootCAs: s.cfg.Roots, MinVersion: tls.VersionTLS12}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(s.cfg.Timeout), gomail.WithTLSConfig(tc),
		gomail.WithDialContextFunc(s.cfg.Outbound.DialContext)}
	switch c.Security {
	case settings.SecurityTLS:
		// go-mail does not wrap a custom dialer's connection in TLS; the
		// connection is TLS from the start, which go-mail then sees
		// (opportunistic: no STARTTLS on top).
		opts = append(opts, gomail.WithDialContextFunc(implicitTLS(s.cfg.Outbound, tc)),
			gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case settings.SecurityNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(c.Username), gomail.WithPassword(password))
	}
	client, err := gomail.NewClient(host, opts...)
	if err != nil {
		return err
	}
	m, err := message(e, files)
	if err != nil {
		return err
	}
	return client.DialAndSendWithContext(ctx, m)
}

// implicitTLS dials through d and completes a TLS handshake (RFC 8314
// section 3.3) before any SMTP is spoken.
func implicitTLS(d *outbound.Dialer, tc *tls.Config) gomail.DialContextFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn := tls.Client(raw, tc)
		if err := conn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, err
		}
		return conn, nil
	}
}

// message builds the plain-text message of e with files attached.
func message(e *inventory.Email, files []Attachment) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(e.From); err != nil {
		return nil, fmt.Errorf("sender %q: %w", e.From, err)
	}
	if err := m.To(e.To...); err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	m.Subject(e.Subject)
	m.SetDateWithValue(e.Time)
	m.SetMessageID()
	m.SetGenHeader(gomail.HeaderXMailer, "certkeeper")
	m.SetBodyString(gomail.TypeTextPlain, e.Body)
	for _, f := range files {
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		m.AttachReadSeeker(f.Name, bytes.NewReader(f.Data), gomail.WithFileContentType(gomail.ContentType(ct)))
	}
	return m, nil
}

// redact removes the password from an error text, as is and in the
// base64 forms SMTP AUTH sends it in (PLAIN per RFC 4616, LOGIN), in case
// a server echoes what it was sent.
func redact(text, username, password string) string {
	if password == "" {
		return text
	}
	b64 := base64.StdEncoding.EncodeToString
	for _, secret := range []string{
		b64([]byte("\x00" + username + "\x00" + password)),
		b64([]byte(username + "\x00" + username + "\x00" + password)),
		b64([]byte(password)),
		password,
	} {
		text = strings.ReplaceAll(text, secret, "[redacted]")
	}
	return text
}
