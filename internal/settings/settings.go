// Package settings keeps the instance's settings: the administrator's
// e-mail address, the SMTP server certkeeper sends through, and the
// external URL. The SMTP password is sealed with the master key and never
// leaves the package except to the mailer.
package settings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
)

// Store is what the service needs from the inventory.
type Store interface {
	inventory.SettingsStore
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
	// InTx writes a change and its audit event in one transaction.
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// SMTP security modes.
const (
	SecurityStartTLS = "starttls"
	SecurityTLS      = "tls"
	SecurityNone     = "none"
)

// Settings are the instance settings as shown to admins (never the SMTP
// password).
type Settings struct {
	AdminEmail  string
	ExternalURL string
	SMTP        SMTP
	Monitoring  Monitoring
	Digest      Digest
}

// DefaultDigestTime is when the daily digest is due when none is set.
const DefaultDigestTime = "07:00"

// Digest says when and to whom the daily digest goes. The admin e-mail
// always receives it when set; Channels are notification channel names.
type Digest struct {
	// TimeOfDay is "HH:MM" UTC, after which the day's digest is due.
	TimeOfDay string
	// Always sends a digest even when nothing needs action.
	Always bool
	// Channels also receive it; nil means none.
	Channels []string
}

// DailyAt returns the hour and minute of TimeOfDay (the default for a
// value that does not parse).
func (d Digest) DailyAt() (hour, minute int) {
	return dailyAt(d.TimeOfDay, DefaultDigestTime)
}

// Monitoring defaults.
const (
	DefaultMonitorTime          = "06:00"
	DefaultMonitorRetentionDays = 90
	DefaultMonitorConcurrency   = 50
)

// Monitoring tunes the scheduled checks of monitored endpoints. Get
// fills in the defaults, so no field is zero.
type Monitoring struct {
	// TimeOfDay is "HH:MM" UTC, when endpoints checked daily are due.
	TimeOfDay string
	// RetentionDays is how long results are kept.
	RetentionDays int
	// Concurrency bounds the endpoints checked at once.
	Concurrency int
}

// DailyAt returns the hour and minute of TimeOfDay (the default for a
// value that does not parse).
func (m Monitoring) DailyAt() (hour, minute int) {
	return dailyAt(m.TimeOfDay, DefaultMonitorTime)
}

func dailyAt(v, def string) (hour, minute int) {
	t, err := time.Parse("15:04", v)
	if err != nil {
		t, _ = time.Parse("15:04", def)
	}
	return t.Hour(), t.Minute()
}

// SMTP is the outgoing mail server.
type SMTP struct {
	// Host is host:port; "" means e-mail is not set up.
	Host string
	// Security is SecurityStartTLS (default), SecurityTLS or SecurityNone.
	Security string
	Username string
	// From is the sender address; "" means the admin e-mail.
	From string
	// PasswordSet reports whether a password is stored.
	PasswordSet bool
}

// Sender returns the address e-mail is sent from: From, or the admin
// e-mail when From is "". It is "" when neither is set.
func (s *Settings) Sender() string {
	if s.SMTP.From != "" {
		return s.SMTP.From
	}
	return s.AdminEmail
}

// Update changes settings; nil fields are kept. Password "" clears it,
// Security "" means SecurityStartTLS.
type Update struct {
	AdminEmail  *string
	ExternalURL *string
	SMTPHost    *string
	Security    *string
	Username    *string
	From        *string
	Password    *string
	// MonitorTime is "HH:MM" UTC ("" restores the default);
	// MonitorRetentionDays and MonitorConcurrency 0 restore theirs.
	MonitorTime          *string
	MonitorRetentionDays *int
	MonitorConcurrency   *int
	// DigestTime is "HH:MM" UTC ("" restores the default, 07:00);
	// DigestAlways sends the digest on quiet days too; DigestChannels
	// replaces the digest's channel names (an empty list: none).
	DigestTime     *string
	DigestAlways   *bool
	DigestChannels *[]string
}

// Service reads and changes settings. It is safe for concurrent use.
type Service struct {
	store  Store
	sealer *keys.Sealer
	now    func() time.Time
	// mu serializes read-modify-write of the stored document.
	mu sync.Mutex
}

// New returns the service; a nil now means time.Now.
func New(st Store, sealer *keys.Sealer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, sealer: sealer, now: now}
}

// documentName is the SettingsStore name of the settings document.
const documentName = "settings"

// document is the stored JSON form. SealedPassword is the SMTP password
// sealed under the master key, bound to passwordContext.
type document struct {
	AdminEmail     string   `json:"admin_email,omitempty"`
	ExternalURL    string   `json:"external_url,omitempty"`
	SMTPHost       string   `json:"smtp_host,omitempty"`
	SMTPSecurity   string   `json:"smtp_security,omitempty"`
	SMTPUsername   string   `json:"smtp_username,omitempty"`
	SMTPFrom       string   `json:"smtp_from,omitempty"`
	SealedPassword []byte   `json:"smtp_password_sealed,omitempty"`
	MonitorTime    string   `json:"monitor_time,omitempty"`
	MonitorKeep    int      `json:"monitor_retention_days,omitempty"`
	MonitorWorkers int      `json:"monitor_concurrency,omitempty"`
	DigestTime     string   `json:"digest_time,omitempty"`
	DigestAlways   bool     `json:"digest_always,omitempty"`
	DigestChannels []string `json:"digest_channels,omitempty"`
}

// passwordContext binds the sealed password to its place, so that a
// sealed blob copied from elsewhere (a vendor account) does not open.
var passwordContext = []byte("settings:smtp_password")

// load reads the stored document; none stored gives the defaults.
func (s *Service) load(ctx context.Context) (*document, error) {
	b, err := s.store.GetSetting(ctx, documentName)
	if errors.Is(err, inventory.ErrNotFound) {
		return &document{SMTPSecurity: SecurityStartTLS}, nil
	}
	if err != nil {
		return nil, err
	}
	var d document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("settings: stored settings: %w", err)
	}
	if d.SMTPSecurity == "" {
		d.SMTPSecurity = SecurityStartTLS
	}
	return &d, nil
}

// save stores d through st.
func save(ctx context.Context, st inventory.SettingsStore, d *document) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	return st.PutSetting(ctx, documentName, b)
}

func (d *document) view() *Settings {
	return &Settings{AdminEmail: d.AdminEmail, ExternalURL: d.ExternalURL, SMTP: SMTP{Host: d.SMTPHost,
		Security: d.SMTPSecurity, Username: d.SMTPUsername, From: d.SMTPFrom, PasswordSet: len(d.SealedPassword) > 0},
		Monitoring: Monitoring{TimeOfDay: orString(d.MonitorTime, DefaultMonitorTime),
			RetentionDays: orInt(d.MonitorKeep, DefaultMonitorRetentionDays), Concurrency: orInt(d.MonitorWorkers, DefaultMonitorConcurrency)},
		Digest: Digest{TimeOfDay: orString(d.DigestTime, DefaultDigestTime), Always: d.DigestAlways,
			Channels: slices.Clone(d.DigestChannels)}}
}

func orString(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Get returns the settings in force.
func (s *Service) Get(ctx context.Context) (*Settings, error) {
	d, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	return d.view(), nil
}

// Update validates u (inventory.FieldError naming the bad field; nothing
// changes then), stores it and audits the change without secrets: the
// audit summary lists the names of the changed fields only.
func (s *Service) Update(ctx context.Context, actor string, u Update) (*Settings, error) {
	if u.Security != nil && strings.TrimSpace(*u.Security) == "" {
		def := SecurityStartTLS
		u.Security = &def
	}
	if err := u.check(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	changed, err := s.apply(d, u)
	if err != nil {
		return nil, err
	}
	if len(changed) == 0 {
		return d.view(), nil
	}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := save(ctx, tx, d); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &inventory.AuditEvent{Time: s.now().UTC(), Actor: actor, Action: "settings.update",
			Object: inventory.ObjectName(inventory.KindSettings, documentName), Summary: "changed " + strings.Join(changed, ", ")})
	})
	if err != nil {
		return nil, err
	}
	return d.view(), nil
}

// apply changes d as u says and returns the JSON names of the fields that
// changed. A new password always counts as a change.
func (s *Service) apply(d *document, u Update) ([]string, error) {
	var changed []string
	set := func(name string, dst *string, v *string) {
		if v != nil && strings.TrimSpace(*v) != *dst {
			*dst = strings.TrimSpace(*v)
			changed = append(changed, name)
		}
	}
	set("admin_email", &d.AdminEmail, u.AdminEmail)
	set("external_url", &d.ExternalURL, u.ExternalURL)
	set("smtp_host", &d.SMTPHost, u.SMTPHost)
	set("smtp_security", &d.SMTPSecurity, u.Security)
	set("smtp_username", &d.SMTPUsername, u.Username)
	set("smtp_from", &d.SMTPFrom, u.From)
	set("monitor_time", &d.MonitorTime, u.MonitorTime)
	setInt := func(name string, dst *int, v *int) {
		if v != nil && *v != *dst {
			*dst, changed = *v, append(changed, name)
		}
	}
	setInt("monitor_retention_days", &d.MonitorKeep, u.MonitorRetentionDays)
	setInt("monitor_concurrency", &d.MonitorWorkers, u.MonitorConcurrency)
	set("digest_time", &d.DigestTime, u.DigestTime)
	if v := u.DigestAlways; v != nil && *v != d.DigestAlways {
		d.DigestAlways, changed = *v, append(changed, "digest_always")
	}
	if v := u.DigestChannels; v != nil {
		names := channelNames(*v)
		if !slices.Equal(names, d.DigestChannels) {
			d.DigestChannels, changed = names, append(changed, "digest_channels")
		}
	}
	switch {
	case u.Password == nil:
	case *u.Password == "":
		if d.SealedPassword != nil {
			d.SealedPassword, changed = nil, append(changed, "smtp_password")
		}
	default:
		sealed, err := s.sealer.Seal([]byte(*u.Password), passwordContext)
		if err != nil {
			return nil, fmt.Errorf("settings: seal SMTP password: %w", err)
		}
		d.SealedPassword, changed = sealed, append(changed, "smtp_password")
	}
	return changed, nil
}

// SMTPPassword returns the unsealed SMTP password, "" when none.
func (s *Service) SMTPPassword(ctx context.Context) (string, error) {
	d, err := s.load(ctx)
	if err != nil {
		return "", err
	}
	if len(d.SealedPassword) == 0 {
		return "", nil
	}
	pw, err := s.sealer.Open(d.SealedPassword, passwordContext)
	if err != nil {
		return "", fmt.Errorf("settings: open SMTP password: %w", err)
	}
	return string(pw), nil
}

// Rewrap re-seals the stored SMTP password with rewrap (a master key
// rotation's keys.Sealer.Rewrap). Nothing stored is nothing to do.
func (s *Service) Rewrap(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.load(ctx)
	if err != nil || len(d.SealedPassword) == 0 {
		return err
	}
	if d.SealedPassword, err = rewrap(d.SealedPassword); err != nil {
		return fmt.Errorf("settings: rewrap SMTP password: %w", err)
	}
	return save(ctx, s.store, d)
}
