package probe

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestStartTLSRealServers upgrades real servers' plain-text listeners
// (Postfix, Dovecot IMAP and POP3, OpenLDAP slapd, PostgreSQL, MariaDB,
// vsftpd, Prosody) and checks that the chain served is the certificate the test gave them.
func TestStartTLSRealServers(t *testing.T) {
	tests := []struct {
		proto StartTLS
		start func(testing.TB) *testenv.STARTTLSServer
		name  string // the server name the dialogue sends, if it needs one
	}{
		{StartTLSSMTP, testenv.StartPostfix, ""},
		{StartTLSIMAP, func(t testing.TB) *testenv.STARTTLSServer { imap, _ := testenv.StartDovecot(t); return imap }, ""},
		{StartTLSPOP3, func(t testing.TB) *testenv.STARTTLSServer { _, pop3 := testenv.StartDovecot(t); return pop3 }, ""},
		{StartTLSLDAP, testenv.StartSlapd, ""},
		{StartTLSPostgres, testenv.StartPostgresTLS, ""},
		{StartTLSMySQL, testenv.StartMariaDB, ""},
		{StartTLSFTP, testenv.StartVsftpd, ""},
		{StartTLSXMPP, testenv.StartProsody, testenv.ProsodyDomain},
	}
	for _, tt := range tests {
		t.Run(string(tt.proto), func(t *testing.T) {
			t.Parallel()
			srv := tt.start(t)
			res, err := TLS(context.Background(), srv.Addr, Options{StartTLS: tt.proto, ServerName: tt.name, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatalf("TLS: %v\nserver log:\n%s", err, srv.Log())
			}
			if res.StartTLS != tt.proto || len(res.Chain) != 1 || !bytes.Equal(res.Chain[0].Raw, srv.Cert.Raw) {
				t.Errorf("StartTLS %q, %d certificates; want %q and the test's certificate", res.StartTLS, len(res.Chain), tt.proto)
			}
		})
	}
}

// TestStartTLSRealServersWithoutTLS asks real servers configured without
// TLS (vsftpd with ssl_enable=NO, Prosody without mod_tls) to upgrade,
// and checks that the probe says, in one line, that they do not offer it.
func TestStartTLSRealServersWithoutTLS(t *testing.T) {
	tests := []struct {
		proto StartTLS
		start func(testing.TB) *testenv.STARTTLSServer
		name  string
		want  string
	}{
		{StartTLSFTP, testenv.StartVsftpdWithoutTLS, "", "ftp: the server does not offer TLS"},
		{StartTLSXMPP, testenv.StartProsodyWithoutTLS, testenv.ProsodyDomain, "xmpp: the server does not offer STARTTLS"},
	}
	for _, tt := range tests {
		t.Run(string(tt.proto), func(t *testing.T) {
			t.Parallel()
			srv := tt.start(t)
			_, err := TLS(context.Background(), srv.Addr, Options{StartTLS: tt.proto, ServerName: tt.name, Timeout: 10 * time.Second})
			var se *StartTLSError
			if !errors.As(err, &se) || se.Protocol != tt.proto {
				t.Fatalf("TLS: %v; want a %s StartTLSError\nserver log:\n%s", err, tt.proto, srv.Log())
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("TLS: %q; want one line containing %q\nserver log:\n%s", msg, tt.want, srv.Log())
			}
		})
	}
}
