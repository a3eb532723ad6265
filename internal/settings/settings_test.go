package settings_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/settings"
	"github.com/certkeeper/certkeeper/internal/store"
)

const secret = "s3cret-Pa55word"

func newSealer(t *testing.T, b byte) *keys.Sealer {
	t.Helper()
	s, err := keys.NewSealer(nil, bytes.Repeat([]byte{b}, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newService(t *testing.T) (*settings.Service, inventory.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return settings.New(st, newSealer(t, 7), nil), st
}

func ptr(s string) *string { return &s }

func fullUpdate() settings.Update {
	return settings.Update{AdminEmail: ptr("pki@example.com"), ExternalURL: ptr("https://ck.example.com/base"),
		SMTPHost: ptr("smtp.example.com:587"), Security: ptr(settings.SecurityTLS), Username: ptr("mailer"),
		From: ptr("certkeeper@example.com"), Password: ptr(secret)}
}

func TestDefaults(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	got, err := svc.Get(ctx)
	want := &settings.Settings{SMTP: settings.SMTP{Security: settings.SecurityStartTLS},
		Monitoring: settings.Monitoring{TimeOfDay: "06:00", RetentionDays: 90, Concurrency: 50},
		Digest:     settings.Digest{TimeOfDay: "07:00"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Get on a new store = %+v, %v; want %+v", got, err, want)
	}
	if pw, err := svc.SMTPPassword(ctx); pw != "" || err != nil {
		t.Errorf("SMTPPassword = %q, %v; want empty", pw, err)
	}
}

func TestUpdate(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	got, err := svc.Update(ctx, "user:ada", fullUpdate())
	if err != nil {
		t.Fatal(err)
	}
	want := settings.Settings{AdminEmail: "pki@example.com", ExternalURL: "https://ck.example.com/base",
		SMTP: settings.SMTP{Host: "smtp.example.com:587", Security: "tls", Username: "mailer",
			From: "certkeeper@example.com", PasswordSet: true},
		Monitoring: settings.Monitoring{TimeOfDay: "06:00", RetentionDays: 90, Concurrency: 50},
		Digest:     settings.Digest{TimeOfDay: "07:00"}}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("Update = %+v, want %+v", got, want)
	}
	if got, _ := svc.Get(ctx); !reflect.DeepEqual(*got, want) {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	if pw, err := svc.SMTPPassword(ctx); pw != secret || err != nil {
		t.Errorf("SMTPPassword = %q, %v; want the password", pw, err)
	}
	raw, err := st.GetSetting(ctx, "settings")
	if err != nil || bytes.Contains(raw, []byte(secret)) {
		t.Errorf("stored settings %s (%v) hold the password in the clear", raw, err)
	}

	// nil keeps, "" clears, only changes are audited.
	got, err = svc.Update(ctx, "user:ada", settings.Update{Username: ptr("mailer"), Password: ptr(""),
		AdminEmail: ptr(" ops@example.com ")})
	if err != nil || got.SMTP.PasswordSet || got.AdminEmail != "ops@example.com" || got.SMTP.Host != want.SMTP.Host {
		t.Errorf("clearing the password = %+v, %v; want no password, new admin e-mail, rest kept", got, err)
	}
	events, _, err := st.ListAudit(ctx, time.Time{}, inventory.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var summaries []string
	for _, e := range events {
		if e.Action == "settings.update" {
			summaries = append(summaries, e.Summary)
		}
		if strings.Contains(e.Summary, secret) {
			t.Errorf("audit summary %q holds the password", e.Summary)
		}
	}
	wantSummaries := []string{
		"changed admin_email, external_url, smtp_host, smtp_security, smtp_username, smtp_from, smtp_password",
		"changed admin_email, smtp_password",
	}
	if fmt.Sprint(summaries) != fmt.Sprint(wantSummaries) {
		t.Errorf("audit summaries = %q, want %q", summaries, wantSummaries)
	}
}

func TestValidation(t *testing.T) {
	svc, _ := newService(t)
	for _, tc := range []struct {
		field string
		u     settings.Update
	}{
		{"admin_email", settings.Update{AdminEmail: ptr("Ada <ada@example.com>")}},
		{"admin_email", settings.Update{AdminEmail: ptr("ada@example.com\r\nBcc: x@example.com")}},
		{"admin_email", settings.Update{AdminEmail: ptr("ada@example.com, eve@example.com")}},
		{"admin_email", settings.Update{AdminEmail: ptr("not-an-address")}},
		{"admin_email", settings.Update{AdminEmail: ptr(strings.Repeat("a", 250) + "@example.com")}},
		{"smtp_from", settings.Update{From: ptr("ada@example.com (comment)")}},
		{"external_url", settings.Update{ExternalURL: ptr("ck.example.com")}},
		{"external_url", settings.Update{ExternalURL: ptr("ftp://ck.example.com")}},
		{"external_url", settings.Update{ExternalURL: ptr("https://ck.example.com/?a=b")}},
		{"external_url", settings.Update{ExternalURL: ptr("https://ck.example.com/#top")}},
		{"external_url", settings.Update{ExternalURL: ptr("https://user:pw@ck.example.com/")}},
		{"external_url", settings.Update{ExternalURL: ptr("https://ck.example.com/" + strings.Repeat("a", 2048))}},
		{"smtp_host", settings.Update{SMTPHost: ptr("smtp.example.com")}},
		{"smtp_host", settings.Update{SMTPHost: ptr("smtp.example.com:0")}},
		{"smtp_host", settings.Update{SMTPHost: ptr("smtp.example.com:65536")}},
		{"smtp_host", settings.Update{SMTPHost: ptr("smtp.example.com:smtp")}},
		{"smtp_host", settings.Update{SMTPHost: ptr("smtp_bad!.example.com:25")}},
		{"smtp_host", settings.Update{SMTPHost: ptr("-smtp.example.com:25")}},
		{"smtp_security", settings.Update{Security: ptr("ssl")}},
		{"smtp_username", settings.Update{Username: ptr("a\nb")}},
		{"smtp_password", settings.Update{Password: ptr(secret + "\r\n")}},
		{"smtp_password", settings.Update{Password: ptr(strings.Repeat(secret, 30))}},
		// A good field before a bad one changes nothing either.
		{"smtp_host", settings.Update{AdminEmail: ptr("new@example.com"), Password: ptr("new" + secret),
			SMTPHost: ptr("smtp.example.com:99999")}},
	} {
		t.Run(tc.field, func(t *testing.T) {
			ctx := context.Background()
			before, err := svc.Update(ctx, "test", fullUpdate())
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.Update(ctx, "test", tc.u)
			var fe *inventory.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, inventory.ErrInvalid) {
				t.Fatalf("Update = %v, want a field error naming %s", err, tc.field)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q holds the password or several lines", err)
			}
			after, _ := svc.Get(ctx)
			pw, _ := svc.SMTPPassword(ctx)
			if !reflect.DeepEqual(after, before) || pw != secret {
				t.Errorf("after a refused update: %+v, password kept %t; want %+v unchanged", after, pw == secret, before)
			}
		})
	}
}

func TestValidValues(t *testing.T) {
	svc, _ := newService(t)
	for _, u := range []settings.Update{
		{SMTPHost: ptr("[::1]:25")}, {SMTPHost: ptr("127.0.0.1:465")}, {SMTPHost: ptr("mail.example.com.:587")},
		{ExternalURL: ptr("http://10.0.0.5:8443")}, {AdminEmail: ptr("")}, {Security: ptr("")},
		{Security: ptr(settings.SecurityNone)}, {From: ptr("pki+alerts@sub.example.com")},
	} {
		if _, err := svc.Update(context.Background(), "test", u); err != nil {
			t.Errorf("Update(%+v) = %v, want accepted", u, err)
		}
	}
}

// TestConcurrent runs updates of different fields at once: none is lost.
func TestConcurrent(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			u := settings.Update{AdminEmail: ptr(fmt.Sprintf("a%d@example.com", i))}
			if i%2 == 1 {
				u = settings.Update{SMTPHost: ptr(fmt.Sprintf("smtp%d.example.com:25", i))}
			}
			if _, err := svc.Update(ctx, "test", u); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err := svc.Get(ctx)
	if err != nil || got.AdminEmail == "" || got.SMTP.Host == "" {
		t.Errorf("after concurrent updates = %+v, %v; want both fields set", got, err)
	}
}

// TestRewrap moves the sealed password to a new master key.
func TestRewrap(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "certkeeper.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	old := settings.New(st, newSealer(t, 1), nil)
	if _, err := old.Update(ctx, "test", settings.Update{Password: ptr(secret)}); err != nil {
		t.Fatal(err)
	}
	ring, err := keys.NewSealer(nil, bytes.Repeat([]byte{2}, keys.MasterKeySize), bytes.Repeat([]byte{1}, keys.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	if err := settings.New(st, ring, nil).Rewrap(ctx, ring.Rewrap); err != nil {
		t.Fatal(err)
	}
	if pw, err := settings.New(st, newSealer(t, 2), nil).SMTPPassword(ctx); pw != secret || err != nil {
		t.Errorf("password under the new key = %q, %v; want it", pw, err)
	}
	if _, err := old.SMTPPassword(ctx); err == nil {
		t.Error("the old key still opens the password")
	}
}

func intPtr(n int) *int { return &n }

// TestMonitoring: the monitoring settings are validated, stored, and
// restored to their defaults by zero values.
func TestMonitoring(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	got, err := svc.Update(ctx, "admin", settings.Update{MonitorTime: ptr("21:30"), MonitorRetentionDays: intPtr(30),
		MonitorConcurrency: intPtr(5)})
	want := settings.Monitoring{TimeOfDay: "21:30", RetentionDays: 30, Concurrency: 5}
	if err != nil || got.Monitoring != want {
		t.Fatalf("Update = %+v, %v; want %+v", got.Monitoring, err, want)
	}
	if h, m := got.Monitoring.DailyAt(); h != 21 || m != 30 {
		t.Errorf("DailyAt = %d:%d, want 21:30", h, m)
	}
	for _, u := range []settings.Update{{MonitorTime: ptr("6:00")}, {MonitorTime: ptr("25:00")},
		{MonitorRetentionDays: intPtr(-1)}, {MonitorConcurrency: intPtr(100000)}} {
		var fe *inventory.FieldError
		if _, err := svc.Update(ctx, "admin", u); !errors.As(err, &fe) {
			t.Errorf("Update(%+v) = %v, want a field error", u, err)
		}
	}
	got, err = svc.Update(ctx, "admin", settings.Update{MonitorTime: ptr(""), MonitorRetentionDays: intPtr(0)})
	want = settings.Monitoring{TimeOfDay: "06:00", RetentionDays: 90, Concurrency: 5}
	if err != nil || got.Monitoring != want {
		t.Errorf("Update to defaults = %+v, %v; want %+v", got.Monitoring, err, want)
	}
}

// TestDigest: the digest's time, quiet-day switch and channels are kept,
// validated with one-line errors that change nothing, and restored to
// their defaults.
func TestDigest(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	yes := true
	chans := []string{" ops ", "pager.duty", "ops", ""}
	got, err := svc.Update(ctx, "admin", settings.Update{DigestTime: ptr("18:45"), DigestAlways: &yes, DigestChannels: &chans})
	want := settings.Digest{TimeOfDay: "18:45", Always: true, Channels: []string{"ops", "pager.duty"}}
	if err != nil || !reflect.DeepEqual(got.Digest, want) {
		t.Fatalf("Update = %+v, %v; want %+v", got.Digest, err, want)
	}
	if h, m := got.Digest.DailyAt(); h != 18 || m != 45 {
		t.Errorf("DailyAt = %d:%d, want 18:45", h, m)
	}
	events, _, _ := st.ListAudit(ctx, time.Time{}, inventory.Page{Limit: 10})
	if len(events) == 0 || !strings.Contains(events[len(events)-1].Summary, "digest_time, digest_always, digest_channels") {
		t.Errorf("audit = %+v; want the digest fields named", events)
	}
	bad := []string{"ops", "no spaces allowed"}
	for _, u := range []settings.Update{{DigestTime: ptr("7:00")}, {DigestTime: ptr("24:00")}, {DigestChannels: &bad}} {
		var fe *inventory.FieldError
		_, err := svc.Update(ctx, "admin", u)
		if !errors.As(err, &fe) || !strings.HasPrefix(fe.Field, "digest_") || strings.Contains(err.Error(), "\n") {
			t.Errorf("Update(%+v) = %v, want a one-line digest field error", u, err)
		}
	}
	if now, _ := svc.Get(ctx); !reflect.DeepEqual(now.Digest, want) {
		t.Errorf("refused updates changed the digest settings: %+v", now.Digest)
	}
	no, none := false, []string{}
	got, err = svc.Update(ctx, "admin", settings.Update{DigestTime: ptr(""), DigestAlways: &no, DigestChannels: &none})
	if want := (settings.Digest{TimeOfDay: "07:00"}); err != nil || !reflect.DeepEqual(got.Digest, want) {
		t.Errorf("Update to defaults = %+v, %v; want %+v", got.Digest, err, want)
	}
}
