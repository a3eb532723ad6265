package kit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
)

// outcome is what each end of a handshake saw.
type outcome struct {
	serverErr, clientErr error
	state                tls.ConnectionState
}

// checkHandshake runs a real mutual-TLS handshake in memory: server
// requires a client certificate and verifies it against its CA file; the
// client verifies the server against its own CA file and the server name.
func checkHandshake(r *Report, server, client *Side, o Options) {
	subject := client.Label + " <-> " + server.Label
	sn := serverName(server, o)
	out := handshake(server, client, sn, o)
	if out.serverErr == nil && out.clientErr == nil {
		r.add(CheckHandshake, subject, Pass, "mutual TLS handshake completed (%s, %s, server name %q): %s accepted %s's certificate and %s accepted %s's",
			tls.VersionName(out.state.Version), tls.CipherSuiteName(out.state.CipherSuite), sn,
			the(server), the(client), the(client), the(server))
		return
	}
	var parts []string
	if out.serverErr != nil {
		parts = append(parts, the(server)+" "+plain(out.serverErr))
	}
	if out.clientErr != nil {
		parts = append(parts, the(client)+" "+plain(out.clientErr))
	}
	r.add(CheckHandshake, subject, Fail, "the handshake (server name %q) failed: %s", sn, strings.Join(parts, "; "))
}

// serverName is the name the client asks for: the first name the caller
// gave, else the certificate's first DNS name or IP address.
func serverName(s *Side, o Options) string {
	switch c := s.Leaf; {
	case len(o.ServerNames) > 0:
		return o.ServerNames[0]
	case len(c.DNSNames) > 0:
		return c.DNSNames[0]
	case len(c.IPAddresses) > 0:
		return c.IPAddresses[0].String()
	default:
		return c.Subject.CommonName
	}
}

func handshake(server, client *Side, sn string, o Options) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	sc, cc := net.Pipe()
	srv := tls.Server(sc, &tls.Config{
		Certificates: []tls.Certificate{certificate(server, o)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool(server.Trust),
		Time:         o.Now,
		MinVersion:   tls.VersionTLS12,
	})
	own := certificate(client, o)
	cli := tls.Client(cc, &tls.Config{
		RootCAs:    pool(client.Trust),
		ServerName: sn,
		Time:       o.Now,
		MinVersion: tls.VersionTLS12,
		// Send the certificate whatever CAs the server asks for, as
		// OpenSSL-based clients do, so that the server judges it.
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &own, nil },
	})
	done := make(chan error, 1)
	go func() { done <- serve(ctx, srv, sc) }()
	var out outcome
	out.clientErr = talk(ctx, cli, cc)
	out.state = cli.ConnectionState()
	out.serverErr = <-done
	return out
}

// serve completes the server's handshake and sends one byte, so that a
// client certificate rejected after the client's part of a TLS 1.3
// handshake shows up on the client's next read, as it does on a network.
// The raw connection is closed, not the TLS one: both ends writing
// close_notify on a synchronous pipe would wait for each other.
func serve(ctx context.Context, c *tls.Conn, raw net.Conn) error {
	defer raw.Close()
	if err := c.HandshakeContext(ctx); err != nil {
		return err
	}
	_, err := c.Write([]byte{1})
	return err
}

func talk(ctx context.Context, c *tls.Conn, raw net.Conn) error {
	defer raw.Close()
	if err := c.HandshakeContext(ctx); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetReadDeadline(dl)
	}
	_, err := c.Read(make([]byte, 1))
	return err
}

// certificate is s's certificate, chain and key as a handshake presents
// them, even when the key does not match (to show what the peer sees).
func certificate(s *Side, o Options) tls.Certificate {
	raw := [][]byte{s.Leaf.Raw}
	for _, c := range sendChain(s, o.Now()) {
		raw = append(raw, c.Raw)
	}
	return tls.Certificate{Certificate: raw, PrivateKey: s.Key, Leaf: s.Leaf}
}

// plain says what an end of a handshake saw, in plain words, followed by
// the library's message.
func plain(err error) string {
	var ua x509.UnknownAuthorityError
	var host x509.HostnameError
	var inv x509.CertificateInvalidError
	msg := err.Error()
	switch {
	case errors.As(err, &ua):
		return "did not trust the other side's CA (" + msg + ")"
	case errors.As(err, &host):
		return "found the certificate is not valid for the name it connected to (" + msg + ")"
	case errors.As(err, &inv):
		return "rejected the other side's certificate (" + msg + ")"
	case strings.HasPrefix(msg, "remote error: tls: "):
		return fmt.Sprintf("was refused by the other side with the alert %s (%s)", strings.ReplaceAll(alertName(msg), " ", "_"), msg)
	case strings.Contains(msg, "invalid signature by the"), strings.Contains(msg, "verification error"):
		return "found the other side's handshake signature does not match its certificate: its key is not the certificate's key (" + msg + ")"
	case strings.Contains(msg, "didn't provide a certificate"):
		return "received no client certificate (" + msg + ")"
	}
	return "failed: " + msg
}

// alertName extracts "bad certificate" from "remote error: tls: bad certificate".
func alertName(msg string) string {
	if i := strings.LastIndex(msg, "tls: "); i >= 0 {
		return msg[i+len("tls: "):]
	}
	return msg
}
