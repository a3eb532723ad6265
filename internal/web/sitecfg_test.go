package web_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/stack"
	"github.com/certkeeper/certkeeper/internal/store"
	"github.com/certkeeper/certkeeper/internal/users"
)

// newSiteWith is newSite with the stack's configuration changed by
// configure, which also gets the inventory (to build an access.List on
// it, say). When the configuration has an IP allow-list, the site's
// handler goes through its Guard, as "certkeeper serve" does.
func newSiteWith(t *testing.T, configure func(cfg *stack.Config, st inventory.Store)) *site {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sealer, err := keys.NewSealer(nil, bytes.Repeat([]byte{7}, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	s := &site{t: t, log: &lockedWriter{w: &bytes.Buffer{}}}
	log := slog.New(slog.NewTextHandler(s.log, nil))
	cfg := stack.Config{PasswordParams: &users.Params{Memory: 64, Time: 1, Threads: 1}, Log: log}
	if configure != nil {
		configure(&cfg, st)
	}
	s.stack, err = stack.New(ctx, st, sealer, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.stack.Authority.EnsureDefault(ctx); err != nil {
		t.Fatal(err)
	}
	for name, role := range map[string]inventory.Role{"ada": inventory.RoleAdmin, "bob": inventory.RoleUser} {
		if _, err := s.stack.Users.Create(ctx, "test", name, role, "correct horse battery "+name); err != nil {
			t.Fatal(err)
		}
	}
	ui, err := s.stack.UI("", log)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", s.stack.API.Handler())
	mux.Handle("/", ui.Handler())
	var h http.Handler = mux
	if cfg.Access != nil {
		h = cfg.Access.Guard(cfg.Proxies, mux)
	}
	s.srv = httptest.NewTLSServer(h)
	t.Cleanup(s.srv.Close)
	return s
}

// admSMTP is a real SMTP server (go-smtp) on 127.0.0.1 offering
// STARTTLS with a certificate that Roots trust; it keeps what it
// receives.
type admSMTP struct {
	Addr  string
	Roots *x509.CertPool

	mu       sync.Mutex
	received []admMessage
}

type admMessage struct {
	From string
	To   []string
	Data []byte
}

func newAdmSMTP(t *testing.T) *admSMTP {
	t.Helper()
	cert, roots := admServerCert(t)
	s := &admSMTP{Roots: roots}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &admSession{srv: s}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = l.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			t.Errorf("SMTP server: %v", err)
		}
	})
	return s
}

func (s *admSMTP) messages() []admMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]admMessage(nil), s.received...)
}

type admSession struct {
	srv *admSMTP
	msg admMessage
}

func (s *admSession) Mail(from string, _ *smtp.MailOptions) error { s.msg.From = from; return nil }
func (s *admSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *admSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = b
	s.srv.mu.Lock()
	s.srv.received = append(s.srv.received, s.msg)
	s.srv.mu.Unlock()
	return nil
}

func (s *admSession) Reset()        { s.msg = admMessage{} }
func (s *admSession) Logout() error { return nil }

// admServerCert makes a self-signed certificate for 127.0.0.1 and a pool
// that trusts it.
func admServerCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:   pkix.Name{CommonName: "smtp test server"},
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
