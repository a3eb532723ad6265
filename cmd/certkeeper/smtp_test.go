package main

import (
	"errors"
	"io"
	"mime"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// mailbox is a real SMTP server (go-smtp) on 127.0.0.1 that takes every
// message without authentication or TLS, as a loopback relay would, and
// keeps what it receives.
type mailbox struct {
	Addr string

	mu       sync.Mutex
	received []mailMessage
}

// mailMessage is one message as the server received it.
type mailMessage struct {
	From string
	To   []string
	Data []byte
}

// Subject returns the message's decoded Subject header.
func (m mailMessage) Subject() string {
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

// newMailbox starts the server; it stops when the test ends.
func newMailbox(t *testing.T) *mailbox {
	t.Helper()
	mb := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: mb}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.Addr = l.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Errorf("SMTP server: %v", err)
		}
	})
	return mb
}

// messages returns what the server received so far.
func (mb *mailbox) messages() []mailMessage {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]mailMessage(nil), mb.received...)
}

// wait returns the messages once there are at least n, or what there is
// after timeout.
func (mb *mailbox) wait(n int, timeout time.Duration) []mailMessage {
	deadline := time.Now().Add(timeout)
	for {
		msgs := mb.messages()
		if len(msgs) >= n || time.Now().After(deadline) {
			return msgs
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mailSession is one SMTP connection.
type mailSession struct {
	box *mailbox
	msg mailMessage
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.msg.From = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = b
	s.box.mu.Lock()
	s.box.received = append(s.box.received, s.msg)
	s.box.mu.Unlock()
	s.msg = mailMessage{}
	return nil
}

func (s *mailSession) Reset()        { s.msg = mailMessage{} }
func (s *mailSession) Logout() error { return nil }
