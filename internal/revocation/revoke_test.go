package revocation_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/revocation"
)

func TestParseReason(t *testing.T) {
	tests := []struct {
		in      string
		want    revocation.Reason
		wantErr string
	}{
		{"", revocation.Unspecified, ""},
		{"unspecified", revocation.Unspecified, ""},
		{"keyCompromise", revocation.KeyCompromise, ""},
		{"keycompromise", revocation.KeyCompromise, ""},
		{"caCompromise", revocation.CACompromise, ""},
		{"affiliationChanged", revocation.AffiliationChanged, ""},
		{"superseded", revocation.Superseded, ""},
		{"cessationOfOperation", revocation.CessationOfOperation, ""},
		{"privilegeWithdrawn", revocation.PrivilegeWithdrawn, ""},
		{"certificateHold", 0, "is not accepted"},
		{"removeFromCRL", 0, "is not accepted"},
		{"stolen", 0, `unknown reason "stolen"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := revocation.ParseReason(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("ParseReason(%q) error = %v, want one line containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseReason(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	f := newFixture(t, sqlite(t), revocation.Config{})
	ctx := context.Background()
	leaf := f.issue(t, "revoked.example")
	other := f.issue(t, "good.example")

	f.clock.Advance(time.Hour)
	res, err := f.svc.Revoke(ctx, strconv.FormatInt(leaf.Record.ID, 10), revocation.KeyCompromise, "test:alice")
	if err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if res.CA.ID != f.ca.ID || res.CRL == nil || res.Revocation.Reason != int(revocation.KeyCompromise) {
		t.Fatalf("Revoke = %+v, want CA %d with a CRL, reason keyCompromise", res, f.ca.ID)
	}
	l := f.crl(t)
	if len(l.RevokedCertificateEntries) != 1 {
		t.Fatalf("CRL lists %d certificates, want 1", len(l.RevokedCertificateEntries))
	}
	e := l.RevokedCertificateEntries[0]
	if e.SerialNumber.Cmp(leaf.Certificate.SerialNumber) != 0 || e.ReasonCode != int(revocation.KeyCompromise) ||
		!e.RevocationTime.Equal(f.clock.Now()) {
		t.Errorf("CRL entry = serial %x reason %d at %s; want %x, 1, %s", e.SerialNumber, e.ReasonCode, e.RevocationTime,
			leaf.Certificate.SerialNumber, f.clock.Now())
	}
	if !l.ThisUpdate.Equal(f.clock.Now()) || !l.NextUpdate.Equal(f.clock.Now().Add(24*time.Hour)) {
		t.Errorf("CRL thisUpdate %s nextUpdate %s, want now and now+24h", l.ThisUpdate, l.NextUpdate)
	}
	audit, _, err := f.st.ListAudit(ctx, time.Time{}, inventory.Page{})
	if err != nil || !hasAudit(audit, "certificate.revoke", "test:alice") {
		t.Errorf("audit trail = %+v, %v; want a certificate.revoke event by test:alice", audit, err)
	}

	_, err = f.svc.Revoke(ctx, leaf.Record.SHA256, revocation.Superseded, "test:alice")
	if ar := (*revocation.AlreadyRevokedError)(nil); !errors.Is(err, revocation.ErrAlreadyRevoked) || !errors.As(err, &ar) ||
		ar.CertificateID != leaf.Record.ID || ar.At.IsZero() {
		t.Errorf("second Revoke error = %v, want an AlreadyRevokedError with the time, wrapping ErrAlreadyRevoked", err)
	}
	// A colon-separated upper-case fingerprint names the certificate too.
	if _, err := f.svc.Revoke(ctx, colons(other.Record.SHA256), revocation.Superseded, "test"); err != nil {
		t.Fatalf("Revoke by fingerprint: %v", err)
	}
	if n := len(f.crl(t).RevokedCertificateEntries); n != 2 {
		t.Errorf("CRL lists %d certificates after the second revocation, want 2", n)
	}
}

func TestRevokeRefuses(t *testing.T) {
	f := newFixture(t, sqlite(t), revocation.Config{})
	ctx := context.Background()
	root := rootOf(t, f)
	tests := []struct {
		name, ref string
		reason    revocation.Reason
		want      string
		is        error
	}{
		{"not a reference", "www.example", revocation.Unspecified, "neither a certificate ID nor a SHA-256", nil},
		{"unknown ID", "99999", revocation.Unspecified, "not found", inventory.ErrNotFound},
		{"not issued by a certkeeper CA", strconv.FormatInt(root, 10), revocation.Unspecified, "not issued by a certkeeper CA", inventory.ErrState},
		{"certificateHold", "1", 6, "not accepted", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Revoke(ctx, tt.ref, tt.reason, "test")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "revocation: ") {
				t.Errorf("Revoke(%q) error = %v, want \"revocation: ...%s...\"", tt.ref, err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Revoke(%q) error = %v, want it to wrap %v", tt.ref, err, tt.is)
			}
		})
	}
}

// rootOf returns the certificate ID of the root above the default CA.
func rootOf(t *testing.T, f *fixture) int64 {
	t.Helper()
	chain, err := f.st.Chain(context.Background(), f.ca.CertificateID)
	if err != nil || len(chain) < 2 {
		t.Fatalf("chain of the default CA = %d certificates, %v; want intermediate and root", len(chain), err)
	}
	return chain[len(chain)-1].ID
}

func hasAudit(events []inventory.AuditEvent, action, actor string) bool {
	for _, e := range events {
		if e.Action == action && e.Actor == actor {
			return true
		}
	}
	return false
}

func colons(hex string) string {
	var b strings.Builder
	for i := 0; i < len(hex); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.ToUpper(hex[i : i+2]))
	}
	return b.String()
}

// TestExpiredLeaveCRL: a revoked certificate stays on the CRLs published
// until one CRL period after it expires (so that one regularly scheduled
// CRL issued after its expiry lists it, RFC 5280 section 5.1.2.6), and
// later CRLs leave it out; other entries stay.
func TestExpiredLeaveCRL(t *testing.T) {
	f := newFixture(t, sqlite(t), revocation.Config{})
	ctx := context.Background()
	short, err := f.auth.Issue(ctx, ca.Request{Profile: ca.TLSServer, DNSNames: []string{"short.example"},
		Validity: 48 * time.Hour, Requester: ca.Admin("test")})
	if err != nil {
		t.Fatal(err)
	}
	long := f.issue(t, "long.example")
	for _, c := range []*ca.Issued{short, long} {
		if _, err := f.svc.Revoke(ctx, c.Record.SHA256, revocation.Superseded, "test"); err != nil {
			t.Fatal(err)
		}
	}
	listed := func() []string {
		t.Helper()
		if _, err := f.svc.RefreshCRL(ctx, f.ca.ID); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range f.crl(t).RevokedCertificateEntries {
			switch {
			case e.SerialNumber.Cmp(short.Certificate.SerialNumber) == 0:
				out = append(out, "short")
			case e.SerialNumber.Cmp(long.Certificate.SerialNumber) == 0:
				out = append(out, "long")
			}
		}
		slices.Sort(out)
		return out
	}
	steps := []struct {
		at   time.Time
		want []string
	}{
		{short.Certificate.NotAfter.Add(-time.Hour), []string{"long", "short"}},                 // not expired yet
		{short.Certificate.NotAfter.Add(time.Hour), []string{"long", "short"}},                  // expired, first CRL after
		{short.Certificate.NotAfter.Add(24*time.Hour - time.Second), []string{"long", "short"}}, // within one CRL period
		{short.Certificate.NotAfter.Add(24*time.Hour + time.Second), []string{"long"}},          // past it: gone
	}
	for _, s := range steps {
		f.clock.Advance(s.at.Sub(f.clock.Now()))
		if got := listed(); !slices.Equal(got, s.want) {
			t.Errorf("CRL at %s lists %v, want %v", s.at, got, s.want)
		}
	}
}
