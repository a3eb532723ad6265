package api

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/access"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/mail"
	"github.com/certkeeper/certkeeper/internal/settings"
)

// settingsRoutes: settings, SMTP test e-mail, sent e-mails, allow-list.
func (a *API) settingsRoutes() []route {
	set, allow := typeOf[client.Settings](), typeOf[client.AllowList]()
	return []route{
		{method: "GET", pattern: "/api/v1/settings", op: "getSettings", role: admin,
			summary: "Get the settings (never the SMTP password)", out: set, handle: a.getSettings},
		{method: "PUT", pattern: "/api/v1/settings", op: "updateSettings", role: admin, in: typeOf[client.SettingsUpdate](),
			summary: "Change settings; absent fields are kept, an empty smtp_password removes it", out: set,
			handle: a.updateSettings},
		{method: "POST", pattern: "/api/v1/settings/test-email", op: "sendTestEmail", role: admin, in: typeOf[client.TestEmail](),
			summary: "Send the test e-mail (409: not set up; 502, recorded: delivery failed)", out: typeOf[client.Email](),
			handle: a.sendTestEmail},
		{method: "GET", pattern: "/api/v1/emails", op: "listEmails", role: admin,
			summary: "List sent and failed e-mails, newest first", query: pageParams,
			out: typeOf[client.EmailList](), handle: a.listEmails},
		{method: "GET", pattern: "/api/v1/allowlist", op: "getAllowList", role: admin,
			summary: "Get the IP allow-list and the caller's address", out: allow, handle: a.getAllowList},
		{method: "PUT", pattern: "/api/v1/allowlist", op: "updateAllowList", role: admin,
			summary: "Replace the IP allow-list (refused when it would not allow the caller)", in: allow,
			out: allow, handle: a.updateAllowList},
	}
}

func settingsOut(s *settings.Settings) client.Settings {
	return client.Settings{AdminEmail: s.AdminEmail, ExternalURL: s.ExternalURL, SMTPHost: s.SMTP.Host,
		SMTPSecurity: s.SMTP.Security, SMTPUsername: s.SMTP.Username, SMTPFrom: s.SMTP.From,
		SMTPPasswordSet: s.SMTP.PasswordSet, MonitorTime: s.Monitoring.TimeOfDay,
		MonitorRetentionDays: s.Monitoring.RetentionDays, MonitorConcurrency: s.Monitoring.Concurrency,
		DigestTime: s.Digest.TimeOfDay, DigestAlways: s.Digest.Always, DigestChannels: nonNil(s.Digest.Channels)}
}

func emailOut(e *inventory.Email) client.Email {
	to := e.To
	if to == nil {
		to = []string{}
	}
	return client.Email{ID: e.ID, Time: e.Time.UTC(), Kind: e.Kind, From: e.From, To: to, Subject: e.Subject,
		Body: e.Body, Status: e.Status, Error: e.Error}
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request) error {
	s, err := a.Settings.Get(r.Context())
	if err != nil {
		return err
	}
	return ok(w, settingsOut(s))
}

func (a *API) updateSettings(w http.ResponseWriter, r *http.Request) error {
	var in client.SettingsUpdate
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.Settings.Update(r.Context(), actor(r), settings.Update{AdminEmail: in.AdminEmail,
		ExternalURL: in.ExternalURL, SMTPHost: in.SMTPHost, Security: in.SMTPSecurity, Username: in.SMTPUsername,
		From: in.SMTPFrom, Password: in.SMTPPassword, MonitorTime: in.MonitorTime,
		MonitorRetentionDays: in.MonitorRetentionDays, MonitorConcurrency: in.MonitorConcurrency,
		DigestTime: in.DigestTime, DigestAlways: in.DigestAlways, DigestChannels: in.DigestChannels})
	if err != nil {
		return err
	}
	return ok(w, settingsOut(s))
}

// sendTestEmail answers 200 with the record when the e-mail was sent. A
// failed delivery is 502 Bad Gateway with the reason as detail (the
// attempt is recorded and listed in /emails); e-mail that is not set up
// is 409 and is not recorded.
func (a *API) sendTestEmail(w http.ResponseWriter, r *http.Request) error {
	var in client.TestEmail
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	e, err := a.Mail.SendTest(r.Context(), actor(r), in.To)
	switch {
	case errors.Is(err, mail.ErrNotSetUp):
		return &statusError{status: http.StatusConflict, err: err}
	case errors.Is(err, mail.ErrFailed):
		return &statusError{status: http.StatusBadGateway, err: err}
	case err != nil:
		return err
	}
	return ok(w, emailOut(e))
}

func (a *API) listEmails(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	list, next, err := a.Mail.List(r.Context(), p)
	if err != nil {
		return err
	}
	out := client.EmailList{Items: make([]client.Email, len(list)), Next: next}
	for i := range list {
		out.Items[i] = emailOut(&list[i])
	}
	return ok(w, out)
}

// caller is the request's client address: the one the access Guard
// found, else the one the trusted proxies tell.
func (a *API) caller(r *http.Request) netip.Addr {
	if addr, found := access.ClientAddr(r.Context()); found {
		return addr
	}
	return a.Proxies.ClientIP(r)
}

func (a *API) allowListOut(r *http.Request) client.AllowList {
	prefixes := a.Access.Prefixes()
	out := client.AllowList{Prefixes: make([]string, len(prefixes))}
	for i, p := range prefixes {
		out.Prefixes[i] = p.String()
	}
	if addr := a.caller(r); addr.IsValid() {
		out.Caller = addr.String()
	}
	return out
}

// errNoAllowList answers the allow-list routes of an API running without
// one (the local command line has no listener to guard).
var errNoAllowList = &statusError{status: http.StatusConflict,
	err: errors.New("api: no IP allow-list here: it belongs to a running \"certkeeper serve\"; edit DATA-DIR/allowlist.txt or use --server")}

func (a *API) getAllowList(w http.ResponseWriter, r *http.Request) error {
	if a.Access == nil {
		return errNoAllowList
	}
	return ok(w, a.allowListOut(r))
}

// updateAllowList replaces the list; Caller in the body is ignored.
func (a *API) updateAllowList(w http.ResponseWriter, r *http.Request) error {
	if a.Access == nil {
		return errNoAllowList
	}
	var in client.AllowList
	if err := decode(r, &in); err != nil {
		return err
	}
	prefixes := make([]netip.Prefix, 0, len(in.Prefixes))
	for _, s := range in.Prefixes {
		p, err := parsePrefix(strings.TrimSpace(s))
		if err != nil {
			return err
		}
		prefixes = append(prefixes, p)
	}
	if err := a.Access.Replace(r.Context(), prefixes, a.caller(r), actor(r)); err != nil {
		return err
	}
	return ok(w, a.allowListOut(r))
}

// parsePrefix reads a CIDR prefix or a single address (a /32 or /128).
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		if p, err := netip.ParsePrefix(s); err == nil {
			return p, nil
		}
	} else if addr, err := netip.ParseAddr(s); err == nil && addr.Zone() == "" {
		return netip.PrefixFrom(addr, addr.BitLen()), nil
	}
	return netip.Prefix{}, inventory.Invalid("prefixes", "%q is not a CIDR prefix (10.0.0.0/8) or an IP address", s)
}
