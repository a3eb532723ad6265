package probe

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/testenv"
)

// TestStartTLSRealServers upgrades real servers' plain-text listeners
// (Postfix, Dovecot IMAP and POP3, OpenLDAP slapd, PostgreSQL, MariaDB)
// and checks that the chain served is the certificate the test gave them.
func TestStartTLSRealServers(t *testing.T) {
	tests := []struct {
		proto StartTLS
		start func(testing.TB) *testenv.STARTTLSServer
	}{
		{StartTLSSMTP, testenv.StartPostfix},
		{StartTLSIMAP, func(t testing.TB) *testenv.STARTTLSServer { imap, _ := testenv.StartDovecot(t); return imap }},
		{StartTLSPOP3, func(t testing.TB) *testenv.STARTTLSServer { _, pop3 := testenv.StartDovecot(t); return pop3 }},
		{StartTLSLDAP, testenv.StartSlapd},
		{StartTLSPostgres, testenv.StartPostgresTLS},
		{StartTLSMySQL, testenv.StartMariaDB},
	}
	for _, tt := range tests {
		t.Run(string(tt.proto), func(t *testing.T) {
			t.Parallel()
			srv := tt.start(t)
			res, err := TLS(context.Background(), srv.Addr, Options{StartTLS: tt.proto, Timeout: 10 * time.Second})
			if err != nil {
				t.Fatalf("TLS: %v\nserver log:\n%s", err, srv.Log())
			}
			if res.StartTLS != tt.proto || len(res.Chain) != 1 || !bytes.Equal(res.Chain[0].Raw, srv.Cert.Raw) {
				t.Errorf("StartTLS %q, %d certificates; want %q and the test's certificate", res.StartTLS, len(res.Chain), tt.proto)
			}
		})
	}
}
