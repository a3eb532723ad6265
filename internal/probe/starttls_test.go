package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// script is a fake server's side of an upgrade dialogue: it writes each
// "S:" step and reads one line (or n bytes for "R:n") for each "C:" step,
// then, when tlsAfter, serves a TLS handshake.
type step struct {
	send  string // bytes to write
	read  int    // bytes to read; -1 reads a line
	until string // reads until this
}

func fakeServer(t *testing.T, cert tls.Certificate, steps []step, tlsAfter bool) string {
	return serve(t, func(ctx context.Context, c net.Conn) {
		r := bufio.NewReader(c)
		for _, s := range steps {
			if s.send != "" {
				io.WriteString(c, s.send)
			}
			if s.until != "" {
				var seen []byte
				for !strings.HasSuffix(string(seen), s.until) {
					b, err := r.ReadByte()
					if err != nil {
						return
					}
					seen = append(seen, b)
				}
			} else if s.read < 0 {
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
			} else if s.read > 0 {
				if _, err := io.ReadFull(r, make([]byte, s.read)); err != nil {
					return
				}
			}
		}
		if tlsAfter {
			tls.Server(bufferedConn{c, r}, &tls.Config{Certificates: []tls.Certificate{cert}}).HandshakeContext(ctx)
			return
		}
		io.Copy(io.Discard, r)
	})
}

// bufferedConn reads through the fake's bufio.Reader, which may hold the
// start of the ClientHello.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func line(s string) step { return step{send: s, read: -1} }

var ldapOK = "\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00"

// OpenLDAP writes long-form lengths: resultCode 2 with a message.
var ldapRefused = "\x30\x84\x00\x00\x00\x10\x02\x01\x01\x78\x84\x00\x00\x00\x07\x0a\x01\x02\x04\x00\x04\x00"

func mysqlGreeting(caps uint16) string {
	p := "\x0a5.5.5-10.11.6-MariaDB\x00\x01\x00\x00\x00abcdefgh\x00" + string([]byte{byte(caps), byte(caps >> 8)}) + "\x2d\x02\x00\x00\x00"
	return string([]byte{byte(len(p)), 0, 0, 0}) + p
}

func TestStartTLSDialogues(t *testing.T) {
	cert := selfSigned(t, "svc.test")
	xmppHead := "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='svc.test'>"
	tests := []struct {
		proto   StartTLS
		steps   []step
		ok      bool
		wantErr string
	}{
		{StartTLSSMTP, []step{line("220-mx.test ESMTP\r\n220 hello\r\n"), line("250-mx.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"), {send: "220 go ahead\r\n"}}, true, ""},
		{StartTLSSMTP, []step{line("220 mx.test ESMTP\r\n"), {send: "250-mx.test\r\n250 8BITMIME\r\n"}}, false, "smtp: the server does not offer STARTTLS"},
		{StartTLSSMTP, []step{{send: "554 go away\r\n"}}, false, "smtp: the server greeted with 554 go away"},
		{StartTLSIMAP, []step{line("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"), {send: "* CAPABILITY IMAP4rev1\r\na1 OK Begin TLS\r\n"}}, true, ""},
		{StartTLSIMAP, []step{line("* OK ready\r\n"), {send: "a1 BAD unknown command\r\n"}}, false, "imap: STARTTLS refused: BAD unknown command"},
		{StartTLSPOP3, []step{line("+OK ready\r\n"), {send: "+OK Begin TLS\r\n"}}, true, ""},
		{StartTLSPOP3, []step{line("+OK ready\r\n"), {send: "-ERR no\r\n"}}, false, "pop3: STLS refused: -ERR no"},
		{StartTLSFTP, []step{line("220-welcome\r\n some text\r\n220 ready\r\n"), {send: "234 AUTH TLS ok\r\n"}}, true, ""},
		{StartTLSFTP, []step{line("220 ready\r\n"), {send: "502 no\r\n"}}, false, "ftp: the server does not offer TLS (AUTH TLS answered 502 no)"},
		{StartTLSFTP, []step{line("220 ready\r\n"), {send: "431 later\r\n"}}, false, "ftp: AUTH TLS refused: 431 later"},
		{StartTLSLDAP, []step{{read: len(ldapStartTLSRequest())}, {send: ldapOK}}, true, ""},
		{StartTLSLDAP, []step{{read: len(ldapStartTLSRequest())}, {send: ldapRefused}}, false, "ldap: StartTLS refused: result code 2"},
		{StartTLSXMPP, []step{{until: "streams'>"}, {send: xmppHead + "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>", until: "tls'/>"}, {send: "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"}}, true, ""},
		{StartTLSXMPP, []step{{until: "streams'>"}, {send: xmppHead + "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>"}}, false, "xmpp: the server does not offer STARTTLS"},
		{StartTLSPostgres, []step{{read: 8}, {send: "S"}}, true, ""},
		{StartTLSPostgres, []step{{read: 8}, {send: "N"}}, false, "postgres: the server does not accept SSL"},
		{StartTLSMySQL, []step{{send: mysqlGreeting(0xffff)}, {read: 36}}, true, ""},
		{StartTLSMySQL, []step{{send: mysqlGreeting(0xf7ff &^ 0x800)}}, false, "mysql: the server does not offer SSL"},
	}
	for _, tt := range tests {
		t.Run(string(tt.proto)+"/"+tt.wantErr, func(t *testing.T) {
			addr := fakeServer(t, cert, tt.steps, tt.ok)
			res, err := TLS(context.Background(), addr, Options{StartTLS: tt.proto, ServerName: "svc.test", Timeout: 3 * time.Second})
			if tt.ok {
				if err != nil {
					t.Fatalf("TLS: %v", err)
				}
				if res.StartTLS != tt.proto || res.Chain[0].Subject.CommonName != "svc.test" {
					t.Errorf("StartTLS %q, leaf %q; want %q, svc.test", res.StartTLS, res.Chain[0].Subject.CommonName, tt.proto)
				}
				return
			}
			var se *StartTLSError
			if want := "probe: " + addr + ": " + tt.wantErr; err == nil || err.Error() != want || !errors.Is(err, ErrStartTLS) || !errors.As(err, &se) {
				t.Errorf("err = %v, want %q (ErrStartTLS, a *StartTLSError)", err, want)
			}
		})
	}
}

func TestStartTLSTimeout(t *testing.T) {
	silent := serve(t, func(ctx context.Context, _ net.Conn) { <-ctx.Done() })
	start := time.Now()
	_, err := TLS(context.Background(), silent, Options{StartTLS: StartTLSSMTP, Timeout: 300 * time.Millisecond})
	want := "probe: " + silent + ": smtp: no STARTTLS answer within 300ms"
	if err == nil || err.Error() != want || !errors.Is(err, ErrTimeout) {
		t.Errorf("err = %v, want %q (ErrTimeout)", err, want)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
}

func TestStartTLSAuto(t *testing.T) {
	for port, want := range map[string]StartTLS{"25": "smtp", "587": "smtp", "143": "imap", "110": "pop3", "21": "ftp",
		"389": "ldap", "5222": "xmpp", "5432": "postgres", "3306": "mysql", "443": ""} {
		if got := StartTLSAuto.ForPort(port); got != want {
			t.Errorf("auto on %s = %q, want %q", port, got, want)
		}
	}
	if got := StartTLSIMAP.ForPort("25"); got != StartTLSIMAP {
		t.Errorf("imap on 25 = %q", got)
	}
	for _, s := range []string{"", "none", "SMTP", "auto"} {
		if _, err := ParseStartTLS(s); err != nil {
			t.Errorf("ParseStartTLS(%q): %v", s, err)
		}
	}
	if _, err := ParseStartTLS("gopher"); err == nil || !strings.Contains(err.Error(), "smtp, imap") {
		t.Errorf("ParseStartTLS(gopher) = %v", err)
	}
}

// fuzzDialogue feeds arbitrary server bytes to an upgrade dialogue over a
// net.Pipe: it must not panic, must return a nil or *StartTLSError, and
// must return by its deadline even when the server stops talking.
func fuzzDialogue(f *testing.F, up upgrader, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cli, srv := net.Pipe()
		defer cli.Close()
		go io.Copy(io.Discard, srv)
		go func() { srv.Write(data); srv.Close() }()
		const limit = 2 * time.Second
		start := time.Now()
		err := up(cli, "svc.test", start.Add(limit))
		var se *StartTLSError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("err = %#v, want a *StartTLSError", err)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("message %q has more than one line", err)
		}
		if d := time.Since(start); d > limit+time.Second {
			t.Fatalf("returned after %v", d)
		}
	})
}

func FuzzStartSMTP(f *testing.F) {
	fuzzDialogue(f, startSMTP, "220 x\r\n250-x\r\n250 STARTTLS\r\n220 go\r\n", "220-x\r\n")
}
func FuzzStartIMAP(f *testing.F) {
	fuzzDialogue(f, startIMAP, "* OK x\r\na1 OK\r\n", "* OK\r\n* x\r\n")
}
func FuzzStartPOP3(f *testing.F) { fuzzDialogue(f, startPOP3, "+OK x\r\n+OK\r\n") }
func FuzzStartFTP(f *testing.F) {
	fuzzDialogue(f, startFTP, "120 soon\r\n220-x\r\n y\r\n220 z\r\n234 ok\r\n")
}
func FuzzStartLDAP(f *testing.F) { fuzzDialogue(f, startLDAP, ldapOK, ldapRefused) }
func FuzzStartXMPP(f *testing.F) {
	fuzzDialogue(f, startXMPP, "<stream:stream xmlns:stream='http://etherx.jabber.org/streams'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
}
func FuzzStartPostgres(f *testing.F) { fuzzDialogue(f, startPostgres, "S", "N", "E") }
func FuzzStartMySQL(f *testing.F) {
	fuzzDialogue(f, startMySQL, mysqlGreeting(0xffff), "\x05\x00\x00\x00\xff\x15\x04ab")
}
