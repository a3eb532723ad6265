package notify

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/ca"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// MaxSecret is the longest channel secret accepted, in bytes.
const MaxSecret = 4096

// ChannelInput is a new channel.
type ChannelInput struct {
	// Name is unique: letters, digits, '.', '_' and '-', at most 64.
	Name string
	// Format is one of inventory.ChannelFormats; "" means generic.
	Format string
	// URL is the http(s) address to post to; "" is allowed for PagerDuty
	// only (DefaultPagerDutyURL).
	URL string
	// Secret is the HMAC key (generic), routing key (pagerduty) or
	// bearer token (ntfy); surrounding white space is dropped. Slack and
	// Teams take none; PagerDuty requires one.
	Secret string
}

var channelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ChannelView is a channel as listings show it: never its secret, and
// its URL cut to the scheme and host (a webhook URL's path or query often
// is its credential).
type ChannelView struct {
	Name   string
	Format string
	// URL is ShownURL of the channel's URL.
	URL string
	// SecretSet says whether the channel has a secret.
	SecretSet bool
	CreatedAt time.Time
	CreatedBy string
}

func viewOf(c *inventory.Channel) ChannelView {
	return ChannelView{Name: c.Name, Format: c.Format, URL: ShownURL(c.URL), SecretSet: len(c.SealedSecret) > 0,
		CreatedAt: c.CreatedAt, CreatedBy: c.CreatedBy}
}

// ShownURL is raw cut to its scheme and host, followed by "/…" when it has
// a path or query: "https://hooks.slack.com/…".
func ShownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	shown := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		shown += "/…"
	}
	return shown
}

// channelContext binds a sealed secret to its channel.
func channelContext(name string) []byte { return []byte("notify_channel:" + name) }

func channelObject(name string) string { return inventory.ObjectName(inventory.KindChannel, name) }

// Add stores a new channel and audits it ("channel.add"; the secret is
// never in the event). Bad input gives an inventory.FieldError, a name in
// use inventory.ErrConflict and a caller who is not an admin
// ErrForbidden; nothing is stored then.
func (s *Service) Add(ctx context.Context, by ca.Requester, in ChannelInput) (*ChannelView, error) {
	if by.Role != inventory.RoleAdmin {
		return nil, ErrForbidden
	}
	c, secret, err := validate(in)
	if err != nil {
		return nil, err
	}
	if secret != "" {
		if c.SealedSecret, err = s.sealer.Seal([]byte(secret), channelContext(c.Name)); err != nil {
			return nil, fmt.Errorf("notify: seal the secret of channel %s: %w", c.Name, err)
		}
	}
	c.CreatedAt, c.CreatedBy = s.now(), by.Name
	summary := fmt.Sprintf("%s (%s, %s, secret %s)", c.Name, c.Format, hostOf(c.URL), yesNo(secret != "", "set", "none"))
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutChannel(ctx, c); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &inventory.AuditEvent{Time: s.now(), Actor: by.Name, Action: "channel.add",
			Object: channelObject(c.Name), Summary: summary})
	})
	if err != nil {
		return nil, fmt.Errorf("notify: add channel %s: %w", c.Name, err)
	}
	s.o.Log.Info("notification channel added", "channel", c.Name, "format", c.Format, "by", by.Name)
	v := viewOf(c)
	return &v, nil
}

// validate checks in and makes the channel (without secret) and the
// trimmed secret.
func validate(in ChannelInput) (*inventory.Channel, string, error) {
	c := &inventory.Channel{Name: strings.TrimSpace(in.Name), Format: strings.TrimSpace(in.Format),
		URL: strings.TrimSpace(in.URL)}
	secret := strings.TrimSpace(in.Secret)
	if c.Format == "" {
		c.Format = inventory.FormatGeneric
	}
	if c.URL == "" && c.Format == inventory.FormatPagerDuty {
		c.URL = DefaultPagerDutyURL
	}
	switch {
	case !channelName.MatchString(c.Name):
		return nil, "", invalid("name", "give 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	case !slices.Contains(inventory.ChannelFormats, c.Format):
		return nil, "", invalid("format", "%q is not one of %s", c.Format, strings.Join(inventory.ChannelFormats, ", "))
	case len(secret) > MaxSecret:
		return nil, "", invalid("secret", "longer than %d bytes", MaxSecret)
	case strings.ContainsAny(secret, "\r\n\x00"):
		return nil, "", invalid("secret", "must be one line")
	case secret != "" && (c.Format == inventory.FormatSlack || c.Format == inventory.FormatTeams):
		return nil, "", invalid("secret", "%s webhooks take no secret: the URL is the credential", c.Format)
	case secret == "" && c.Format == inventory.FormatPagerDuty:
		return nil, "", invalid("secret", "a PagerDuty channel needs its integration's routing key as the secret")
	}
	if err := checkURL(c.URL); err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// checkURL accepts an absolute http or https URL with a host and no user
// information.
func checkURL(raw string) error {
	if raw == "" {
		return invalid("url", "give the webhook URL")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || len(raw) > 2048:
		return invalid("url", "not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return invalid("url", "must start with https:// or http://")
	case u.Host == "" || u.Hostname() == "":
		return invalid("url", "has no host")
	case u.User != nil:
		return invalid("url", "must not hold a user name or password; give a secret instead")
	case u.Fragment != "":
		return invalid("url", "must not have a #fragment")
	}
	return nil
}

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("notify: %w", inventory.Invalid(field, format, args...))
}

// List returns every channel, by name, as listings show them.
func (s *Service) List(ctx context.Context) ([]ChannelView, error) {
	cs, err := s.store.ListChannels(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ChannelView, len(cs))
	for i := range cs {
		out[i] = viewOf(&cs[i])
	}
	return out, nil
}

// Get returns the channel of that name, or inventory.ErrNotFound.
func (s *Service) Get(ctx context.Context, name string) (*ChannelView, error) {
	c, err := s.channel(ctx, name)
	if err != nil {
		return nil, err
	}
	v := viewOf(c)
	return &v, nil
}

func (s *Service) channel(ctx context.Context, name string) (*inventory.Channel, error) {
	c, err := s.store.ChannelByName(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("notify: channel %q: %w", name, err)
	}
	return c, nil
}

// Remove deletes the channel of that name and audits it
// ("channel.remove"); its notifications are kept. An unknown name gives
// inventory.ErrNotFound, a caller who is not an admin ErrForbidden.
func (s *Service) Remove(ctx context.Context, by ca.Requester, name string) error {
	if by.Role != inventory.RoleAdmin {
		return ErrForbidden
	}
	err := s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.DeleteChannel(ctx, name); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &inventory.AuditEvent{Time: s.now(), Actor: by.Name, Action: "channel.remove",
			Object: channelObject(name), Summary: name})
	})
	if err != nil {
		return fmt.Errorf("notify: remove channel %q: %w", name, err)
	}
	s.o.Log.Info("notification channel removed", "channel", name, "by", by.Name)
	return nil
}

// Test sends a test notice on the channel of that name, records it and
// audits the outcome ("channel.test"). A delivery that fails is no error:
// the returned record says so. An unknown name gives
// inventory.ErrNotFound, a caller who is not an admin ErrForbidden.
func (s *Service) Test(ctx context.Context, by ca.Requester, name string) (*inventory.Notification, error) {
	if by.Role != inventory.RoleAdmin {
		return nil, ErrForbidden
	}
	c, err := s.channel(ctx, name)
	if err != nil {
		return nil, err
	}
	n := inventory.Notice{Kind: inventory.NoticeTest, Severity: inventory.SeverityInfo, Key: "test-" + c.Name,
		Subject: "certkeeper test notification",
		Text:    fmt.Sprintf("This is a test of the notification channel %s, sent by %s.", c.Name, by.Name)}
	rec := s.send(ctx, c, n)
	summary := fmt.Sprintf("%s: %s after %d attempt(s)", c.Name, rec.Status, rec.Attempts)
	if rec.Error != "" {
		summary += ": " + rec.Error
	}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutNotification(ctx, rec); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &inventory.AuditEvent{Time: s.now(), Actor: by.Name, Action: "channel.test",
			Object: channelObject(c.Name), Summary: summary})
	})
	if err != nil {
		return nil, fmt.Errorf("notify: record the test of channel %s: %w", c.Name, err)
	}
	return rec, nil
}

// Sent returns one page of the notifications sent or tried, newest
// first.
func (s *Service) Sent(ctx context.Context, p inventory.Page) ([]inventory.Notification, string, error) {
	return s.store.ListNotifications(ctx, p)
}

// hostOf is the host of a channel URL, for audit events and messages:
// the path and query may hold a token.
func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return "?"
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
