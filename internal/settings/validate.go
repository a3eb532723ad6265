package settings

import (
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Length limits.
const (
	// maxEmail is the longest address RFC 5321 section 4.5.3.1.3 allows
	// in a path.
	maxEmail    = 254
	maxURL      = 2048
	maxHost     = 253 + len(":65535")
	maxUsername = 256
	maxPassword = 256
)

// invalid is a field error with the package's prefix; errors.As finds the
// *inventory.FieldError.
func invalid(field, format string, args ...any) error {
	return fmt.Errorf("settings: %w", inventory.Invalid(field, format, args...))
}

// check validates every field u sets (values already trimmed or not:
// surrounding space is ignored). Messages never quote the password.
func (u *Update) check() error {
	checks := []struct {
		field string
		v     *string
		fn    func(field, v string) error
	}{
		{"admin_email", u.AdminEmail, CheckAddress},
		{"external_url", u.ExternalURL, checkURL},
		{"smtp_host", u.SMTPHost, checkHost},
		{"smtp_security", u.Security, checkSecurity},
		{"smtp_username", u.Username, checkUsername},
		{"smtp_from", u.From, CheckAddress},
		{"monitor_time", u.MonitorTime, checkTimeOfDay},
		{"digest_time", u.DigestTime, checkTimeOfDay},
	}
	for _, c := range checks {
		if c.v == nil {
			continue
		}
		if v := strings.TrimSpace(*c.v); v != "" {
			if err := c.fn(c.field, v); err != nil {
				return err
			}
		}
	}
	if p := u.Password; p != nil && (len(*p) > maxPassword || strings.ContainsFunc(*p, unicode.IsControl)) {
		return invalid("smtp_password", "the SMTP password must be at most %d bytes without control characters", maxPassword)
	}
	if err := u.checkMonitoring(); err != nil {
		return err
	}
	return u.checkDigestChannels()
}

// maxDigestChannels bounds the channels a digest goes to.
const maxDigestChannels = 20

// channelName is a notification channel's name, as internal/notify
// allows it.
var channelName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (u *Update) checkDigestChannels() error {
	if u.DigestChannels == nil {
		return nil
	}
	names := channelNames(*u.DigestChannels)
	if len(names) > maxDigestChannels {
		return invalid("digest_channels", "at most %d digest channels", maxDigestChannels)
	}
	for _, n := range names {
		if !channelName.MatchString(n) {
			return invalid("digest_channels", "%q is not a channel name (letters, digits, '.', '_' and '-', at most 64)", n)
		}
	}
	return nil
}

// channelNames trims names, drops empty ones and duplicates, and keeps
// the order given; none gives nil.
func channelNames(in []string) []string {
	var out []string
	for _, n := range in {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// Monitoring limits.
const (
	maxRetentionDays = 3660
	maxConcurrency   = 1000
)

func (u *Update) checkMonitoring() error {
	if v := u.MonitorRetentionDays; v != nil && (*v < 0 || *v > maxRetentionDays) {
		return invalid("monitor_retention_days", "the monitoring retention must be 1 to %d days (0 for the default, %d)",
			maxRetentionDays, DefaultMonitorRetentionDays)
	}
	if v := u.MonitorConcurrency; v != nil && (*v < 0 || *v > maxConcurrency) {
		return invalid("monitor_concurrency", "the monitoring concurrency must be 1 to %d (0 for the default, %d)",
			maxConcurrency, DefaultMonitorConcurrency)
	}
	return nil
}

// checkTimeOfDay accepts "HH:MM" on a 24-hour clock.
func checkTimeOfDay(field, v string) error {
	if _, err := time.Parse("15:04", v); err != nil || len(v) != 5 {
		what := "monitoring"
		if field == "digest_time" {
			what = "digest"
		}
		return invalid(field, "the %s time must be HH:MM (UTC, 24-hour clock), such as 06:00", what)
	}
	return nil
}

// CheckAddress refuses v unless it is one plain e-mail address such as
// pki@example.com: no display name, comments, spaces or line breaks
// (RFC 5322 section 3.4.1 addr-spec). The error names field.
func CheckAddress(field, v string) error {
	if len(v) > maxEmail || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) {
		return invalid(field, "%q is not one plain e-mail address like pki@example.com of at most %d characters", v, maxEmail)
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v || strings.Count(v, "@") != 1 {
		return invalid(field, "%q is not one plain e-mail address like pki@example.com", v)
	}
	return nil
}

func checkURL(field, v string) error {
	u, err := url.Parse(v)
	switch {
	case len(v) > maxURL || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }):
		return invalid(field, "the external URL must be at most %d characters without spaces", maxURL)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		return invalid(field, "%q is not an absolute http:// or https:// URL", v)
	case u.User != nil:
		return invalid(field, "the external URL must not hold a user name or password")
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(v, "#"):
		return invalid(field, "the external URL must not have a query or fragment")
	case u.Port() != "" && !validPort(u.Port()):
		return invalid(field, "the external URL's port %q is not 1 to 65535", u.Port())
	}
	return nil
}

// checkHost accepts host:port where host is an IP address ([::1] for
// IPv6) or a DNS name and port is 1 to 65535.
func checkHost(field, v string) error {
	host, port, err := net.SplitHostPort(v)
	if len(v) > maxHost || err != nil {
		return invalid(field, "%q is not host:port, such as smtp.example.com:587", v)
	}
	if !validPort(port) {
		return invalid(field, "port %q is not a number from 1 to 65535", port)
	}
	if _, err := netip.ParseAddr(host); err != nil && !validDNSName(host) {
		return invalid(field, "%q is neither an IP address nor a DNS name", host)
	}
	return nil
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535 && s[0] != '+' && s[0] != '-'
}

// validDNSName checks RFC 1123 section 2.1 host name syntax; one final
// dot is allowed.
func validDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func checkSecurity(field, v string) error {
	switch v {
	case SecurityStartTLS, SecurityTLS, SecurityNone:
		return nil
	}
	return invalid(field, "%q: want %s, %s or %s", v, SecurityStartTLS, SecurityTLS, SecurityNone)
}

func checkUsername(field, v string) error {
	if len(v) > maxUsername || strings.ContainsFunc(v, unicode.IsControl) {
		return invalid(field, "the SMTP username must be one line of at most %d characters", maxUsername)
	}
	return nil
}
