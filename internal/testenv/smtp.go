package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"net"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// SMTPServer is a real SMTP server (go-smtp) on 127.0.0.1 for tests. It
// takes every message it is given and keeps it; see SMTPOptions for how
// it speaks TLS and whether it requires AUTH.
type SMTPServer struct {
	// Addr is the server's address, 127.0.0.1:PORT.
	Addr string
	// Roots trust the server's certificate (which names 127.0.0.1 and
	// localhost), whether or not the server speaks TLS.
	Roots *x509.CertPool

	opts     SMTPOptions
	mu       sync.Mutex
	received []SMTPMessage
	arrived  chan struct{} // closed, and replaced, when a message arrives
}

// SMTPOptions says how an SMTPServer behaves.
type SMTPOptions struct {
	// Security is how the server speaks TLS: "none" (or "") offers no
	// STARTTLS, "starttls" offers it, "tls" is TLS from the first byte
	// (implicit TLS).
	Security string
	// Username and Password, when Username is set, make the server offer
	// AUTH PLAIN (over TLS only) and refuse MAIL until a client has
	// authenticated with them.
	Username, Password string
	// EchoPassword makes a failed AUTH answer 535 with a text that holds
	// the user name and password given ("authentication failed for USER
	// with password PASSWORD"), as a careless server might, so that tests
	// can check the password goes no further.
	EchoPassword bool
}

// SMTPMessage is one message as the server received it.
type SMTPMessage struct {
	// From and To are the envelope sender and recipients.
	From string
	To   []string
	// Data is the message, header and body, as sent after DATA.
	Data []byte
}

// Subject returns the message's decoded Subject header, or "" when the
// message does not parse.
func (m SMTPMessage) Subject() string {
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	if err != nil {
		return ""
	}
	s, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return msg.Header.Get("Subject")
	}
	return s
}

// NewSMTPServer starts a server as o says; it stops when the test ends.
func NewSMTPServer(t testing.TB, o SMTPOptions) *SMTPServer {
	t.Helper()
	cert, roots := SelfSignedCert(t)
	s := &SMTPServer{Roots: roots, opts: o, arrived: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		if o.Username != "" {
			return &authSession{session{srv: s}}, nil
		}
		return &session{srv: s}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch o.Security {
	case "", "none":
	case "starttls":
		srv.TLSConfig = tlsConf
	case "tls":
		l = tls.NewListener(l, tlsConf)
	default:
		l.Close()
		t.Fatalf("testenv: SMTP security %q, want none, starttls or tls", o.Security)
	}
	s.Addr = l.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Errorf("testenv: SMTP server: %v", err)
		}
	})
	return s
}

// Messages returns a copy of what the server received so far, oldest
// first.
func (s *SMTPServer) Messages() []SMTPMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked()
}

func (s *SMTPServer) messagesLocked() []SMTPMessage {
	msgs := make([]SMTPMessage, len(s.received))
	for i, m := range s.received {
		msgs[i] = SMTPMessage{From: m.From, To: slices.Clone(m.To), Data: slices.Clone(m.Data)}
	}
	return msgs
}

// Wait returns the messages once there are at least n, or what there is
// after timeout.
func (s *SMTPServer) Wait(n int, timeout time.Duration) []SMTPMessage {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		msgs, arrived := s.messagesLocked(), s.arrived
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs
		}
		select {
		case <-arrived:
		case <-timer.C:
			return s.Messages()
		}
	}
}

func (s *SMTPServer) add(m SMTPMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// session is one SMTP connection to a server without AUTH.
type session struct {
	srv    *SMTPServer
	authed bool
	msg    SMTPMessage
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.opts.Username != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.msg.From = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = b
	s.srv.add(s.msg)
	return nil
}

func (s *session) Reset()        { s.msg = SMTPMessage{} }
func (s *session) Logout() error { return nil }

// authSession is one SMTP connection to a server offering AUTH PLAIN.
type authSession struct{ session }

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, password string) error {
		o := s.srv.opts
		if user != o.Username || password != o.Password {
			msg := "authentication failed"
			if o.EchoPassword {
				msg += " for " + user + " with password " + password
			}
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: msg}
		}
		s.authed = true
		return nil
	}), nil
}

// SelfSignedCert makes a throwaway self-signed ECDSA server certificate
// for 127.0.0.1 and localhost, valid from an hour ago to an hour from
// now, and a pool that trusts it.
func SelfSignedCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "certkeeper test server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pool
}
