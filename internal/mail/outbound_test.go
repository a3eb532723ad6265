package mail_test

import (
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/mail"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/settings"
)

// TestSendDeniedByOutboundPolicy points the settings at a real SMTP
// server whose port the outbound policy denies: nothing is delivered and
// the recorded failure is the policy's refusal, not a connect error.
func TestSendDeniedByOutboundPolicy(t *testing.T) {
	for _, security := range []string{settings.SecurityStartTLS, settings.SecurityTLS} {
		t.Run(security, func(t *testing.T) {
			mode := map[string]serverMode{settings.SecurityStartTLS: startTLS, settings.SecurityTLS: implicitTLS}[security]
			srv := newSMTPServer(t, mode, user, password)
			_, port, _ := net.SplitHostPort(srv.Addr)
			e := newEnv(t)
			if _, err := e.settings.Update(ctx, "test", smtpSettings(srv, security, user, password)); err != nil {
				t.Fatal(err)
			}
			deny, err := outbound.Parse(nil, []string{"127.0.0.1:" + port})
			if err != nil {
				t.Fatal(err)
			}
			m := mail.New(e.st, e.settings, mail.Config{Roots: srv.Roots, Timeout: 5 * time.Second,
				Outbound: outbound.NewDialer(deny)}, slog.New(slog.NewTextHandler(e.log, nil)))
			got, err := m.Send(ctx, "alert", []string{"ops@example.com"}, "hello", "body")
			if !errors.Is(err, mail.ErrFailed) || got == nil {
				t.Fatalf("Send = %+v, %v; want a recorded failure", got, err)
			}
			if want := "connection to " + srv.Addr + " is not allowed by the outbound policy"; !strings.Contains(got.Error, want) {
				t.Errorf("recorded error %q; want it to say %q", got.Error, want)
			}
			if n := len(srv.messages()); n != 0 {
				t.Errorf("server received %d messages; want 0", n)
			}
		})
	}
}
