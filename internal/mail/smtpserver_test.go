package mail_test

import (
	"testing"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// smtpServer is the shared test SMTP server (testenv.SMTPServer).
type smtpServer struct{ *testenv.SMTPServer }

// serverMode says how the test server speaks TLS, as
// testenv.SMTPOptions.Security does.
type serverMode string

const (
	plainOnly   serverMode = "none"     // no STARTTLS offered
	startTLS    serverMode = "starttls" // STARTTLS offered
	implicitTLS serverMode = "tls"      // TLS from the first byte
)

// newSMTPServer starts a server; a user other than "" makes it require
// AUTH PLAIN with user and password (over TLS only). A failed AUTH
// answers with a message that echoes the password, as a careless server
// might, so that tests can check it never reaches certkeeper's records.
func newSMTPServer(t *testing.T, mode serverMode, user, password string) *smtpServer {
	t.Helper()
	return &smtpServer{testenv.NewSMTPServer(t, testenv.SMTPOptions{Security: string(mode),
		Username: user, Password: password, EchoPassword: true})}
}

// messages returns what the server received so far.
func (s *smtpServer) messages() []testenv.SMTPMessage { return s.Messages() }

// serverCert makes a self-signed certificate for 127.0.0.1 and a pool
// that trusts it.
var serverCert = testenv.SelfSignedCert
