package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/certkeeper/certkeeper/client"
)

// The settings screens (admins only): general and e-mail settings with a
// test e-mail, the sent e-mails, the IP allow-list and the users.
func (ui *UI) settingsRoutes() []route {
	return []route{
		{"GET", "/settings", admin, ui.settingsPage},
		{"POST", "/settings", admin, ui.updateSettings},
		{"POST", "/settings/test-email", admin, ui.sendTestEmail},
		{"GET", "/settings/emails", admin, ui.sentEmails},
		{"GET", "/settings/allowlist", admin, ui.allowListPage},
		{"POST", "/settings/allowlist", admin, ui.updateAllowList},
		{"GET", "/settings/users", admin, ui.usersPage},
		{"POST", "/settings/users", admin, ui.createUser},
		{"POST", "/settings/users/{id}/reset-password", admin, ui.resetUserPassword},
		{"POST", "/settings/users/{id}/role", admin, ui.changeUserRole},
		{"POST", "/settings/users/{id}/disable", admin, ui.disableUser},
		{"POST", "/settings/users/{id}/enable", admin, ui.enableUser},
		{"POST", "/settings/users/{id}/unlock", admin, ui.unlockUser},
		{"POST", "/settings/token-policy", admin, ui.setTokenPolicy},
	}
}

// --- general and e-mail settings ---

// admSettingsForm holds the settings as shown in the form: the stored
// ones, or what was submitted when it is refused. The SMTP password is
// never in it.
type admSettingsForm struct {
	AdminEmail, ExternalURL, SMTPHost, SMTPSecurity, SMTPUsername, SMTPFrom string
	PasswordSet                                                             bool
	// MonitorTime, MonitorRetentionDays and MonitorConcurrency are the
	// monitoring settings as typed.
	MonitorTime, MonitorRetentionDays, MonitorConcurrency string
	// DigestTime, DigestAlways and DigestChannels (comma-separated) are
	// the daily digest's settings as typed.
	DigestTime, DigestChannels string
	DigestAlways               bool
}

// admTestResult is the outcome of a test e-mail.
type admTestResult struct {
	Sent    bool
	Message string
	To      string
}

type admSettingsData struct {
	Form admSettingsForm
	Test *admTestResult
}

func settingsForm(s *client.Settings) admSettingsForm {
	sec := s.SMTPSecurity
	if sec == "" {
		sec = "starttls"
	}
	return admSettingsForm{AdminEmail: s.AdminEmail, ExternalURL: s.ExternalURL, SMTPHost: s.SMTPHost,
		SMTPSecurity: sec, SMTPUsername: s.SMTPUsername, SMTPFrom: s.SMTPFrom, PasswordSet: s.SMTPPasswordSet,
		MonitorTime: s.MonitorTime, MonitorRetentionDays: strconv.Itoa(s.MonitorRetentionDays),
		MonitorConcurrency: strconv.Itoa(s.MonitorConcurrency),
		DigestTime:         s.DigestTime, DigestAlways: s.DigestAlways, DigestChannels: strings.Join(s.DigestChannels, ", ")}
}

// digestUpdate reads the digest fields of f into u.
func digestUpdate(f *admSettingsForm, u *client.SettingsUpdate) {
	names := []string{}
	for n := range strings.SplitSeq(f.DigestChannels, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	u.DigestTime, u.DigestAlways, u.DigestChannels = &f.DigestTime, &f.DigestAlways, &names
}

// monitorUpdate reads the monitoring fields of f into u; a number that
// does not parse is a field error.
func monitorUpdate(f *admSettingsForm, u *client.SettingsUpdate) map[string]string {
	fields := map[string]string{}
	u.MonitorTime = &f.MonitorTime
	for name, p := range map[string]struct {
		v   string
		dst **int
	}{"monitor_retention_days": {f.MonitorRetentionDays, &u.MonitorRetentionDays},
		"monitor_concurrency": {f.MonitorConcurrency, &u.MonitorConcurrency}} {
		if p.v == "" {
			zero := 0
			*p.dst = &zero
			continue
		}
		n, err := strconv.Atoi(p.v)
		if err != nil {
			fields[name] = "give a whole number (blank: the default)"
			continue
		}
		*p.dst = &n
	}
	return fields
}

func (ui *UI) renderSettings(w http.ResponseWriter, r *http.Request, d admSettingsData, status int, msg string, fields map[string]string) {
	ui.render(w, r, page{name: "settings", title: "Settings", section: "settings", data: d, status: status, err: msg, fields: fields})
}

func (ui *UI) settingsPage(w http.ResponseWriter, r *http.Request) error {
	s, err := ui.api.GetSettings(r.Context())
	if err != nil {
		return err
	}
	ui.renderSettings(w, r, admSettingsData{Form: settingsForm(s)}, 0, "", nil)
	return nil
}

func (ui *UI) updateSettings(w http.ResponseWriter, r *http.Request) error {
	f := admSettingsForm{
		AdminEmail:   strings.TrimSpace(r.PostFormValue("admin_email")),
		ExternalURL:  strings.TrimSpace(r.PostFormValue("external_url")),
		SMTPHost:     strings.TrimSpace(r.PostFormValue("smtp_host")),
		SMTPSecurity: r.PostFormValue("smtp_security"),
		SMTPUsername: strings.TrimSpace(r.PostFormValue("smtp_username")),
		SMTPFrom:     strings.TrimSpace(r.PostFormValue("smtp_from")),

		MonitorTime:          strings.TrimSpace(r.PostFormValue("monitor_time")),
		MonitorRetentionDays: strings.TrimSpace(r.PostFormValue("monitor_retention_days")),
		MonitorConcurrency:   strings.TrimSpace(r.PostFormValue("monitor_concurrency")),

		DigestTime:     strings.TrimSpace(r.PostFormValue("digest_time")),
		DigestAlways:   r.PostFormValue("digest_always") != "",
		DigestChannels: strings.TrimSpace(r.PostFormValue("digest_channels")),
	}
	u := client.SettingsUpdate{AdminEmail: &f.AdminEmail, ExternalURL: &f.ExternalURL, SMTPHost: &f.SMTPHost,
		SMTPSecurity: &f.SMTPSecurity, SMTPUsername: &f.SMTPUsername, SMTPFrom: &f.SMTPFrom}
	digestUpdate(&f, &u)
	if fields := monitorUpdate(&f, &u); len(fields) > 0 {
		ui.renderSettings(w, r, admSettingsData{Form: f}, http.StatusUnprocessableEntity, "The settings were not saved.", fields)
		return nil
	}
	if pw := r.PostFormValue("smtp_password"); pw != "" {
		u.SMTPPassword = &pw
	} else if r.PostFormValue("clear_smtp_password") != "" {
		empty := ""
		u.SMTPPassword = &empty
	}
	_, err := ui.api.UpdateSettings(r.Context(), u)
	if msg, fields, ok := formError(err); ok {
		if cur, err := ui.api.GetSettings(r.Context()); err == nil {
			f.PasswordSet = cur.SMTPPasswordSet
		}
		ui.renderSettings(w, r, admSettingsData{Form: f}, http.StatusUnprocessableEntity, msg, fields)
		return nil
	}
	if err != nil {
		return err
	}
	redirect(w, r, "/settings", "Settings saved.")
	return nil
}

// sendTestEmail sends the test e-mail and shows the outcome: sent, or the
// server's one-line reason.
func (ui *UI) sendTestEmail(w http.ResponseWriter, r *http.Request) error {
	to := strings.TrimSpace(r.PostFormValue("to"))
	e, err := ui.api.SendTestEmail(r.Context(), client.TestEmail{To: to})
	res := &admTestResult{To: to}
	var ce *client.Error
	switch {
	case err == nil:
		res.Sent, res.Message = true, "Test e-mail sent to "+strings.Join(e.To, ", ")+"."
	case errors.As(err, &ce) && (ce.Problem.Status < 500 || ce.Problem.Status == http.StatusBadGateway):
		res.Message = problemText(ce)
	default:
		return err
	}
	s, err := ui.api.GetSettings(r.Context())
	if err != nil {
		return err
	}
	ui.renderSettings(w, r, admSettingsData{Form: settingsForm(s), Test: res}, 0, "", nil)
	return nil
}

// --- sent e-mails ---

func (ui *UI) sentEmails(w http.ResponseWriter, r *http.Request) error {
	list, err := ui.api.ListEmails(r.Context(), client.Page{Limit: 50, After: r.URL.Query().Get("after")})
	if msg, _, ok := formError(err); ok {
		ui.render(w, r, page{name: "emails", title: "Sent e-mails", section: "settings", data: &client.EmailList{},
			status: http.StatusBadRequest, err: msg})
		return nil
	}
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "emails", title: "Sent e-mails", section: "settings", data: list})
	return nil
}

// --- IP allow-list ---

type admAllowListData struct {
	// Text is the list as edited: one prefix a line.
	Text   string
	Caller string
	Count  int
}

func (ui *UI) allowListPage(w http.ResponseWriter, r *http.Request) error {
	l, err := ui.api.GetAllowList(r.Context())
	if err != nil {
		return err
	}
	ui.render(w, r, page{name: "allowlist", title: "IP allow-list", section: "settings",
		data: admAllowListData{Text: strings.Join(l.Prefixes, "\n"), Caller: l.Caller, Count: len(l.Prefixes)}})
	return nil
}

// allowListLines reads the editor's text: one prefix a line; blank lines
// and "#" comments are ignored.
func allowListLines(text string) []string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func (ui *UI) updateAllowList(w http.ResponseWriter, r *http.Request) error {
	text := r.PostFormValue("prefixes")
	l, err := ui.api.UpdateAllowList(r.Context(), client.AllowList{Prefixes: allowListLines(text)})
	if msg, fields, ok := formError(err); ok {
		d := admAllowListData{Text: text}
		if cur, err := ui.api.GetAllowList(r.Context()); err == nil {
			d.Caller, d.Count = cur.Caller, len(cur.Prefixes)
		}
		ui.render(w, r, page{name: "allowlist", title: "IP allow-list", section: "settings", data: d,
			status: http.StatusUnprocessableEntity, err: msg, fields: fields})
		return nil
	}
	if err != nil {
		return err
	}
	redirect(w, r, "/settings/allowlist", "IP allow-list saved: "+strconv.Itoa(len(l.Prefixes))+" entries.")
	return nil
}

// --- users ---

// admUsersData fills the users page. Secret is a one-time password, shown
// on the page answering the creation or reset only.
type admUsersData struct {
	Items      []client.User
	Policy     client.TokenPolicy
	Me         string
	SecretUser string
	Secret     string
	NewName    string
	NewRole    string
}

func (ui *UI) renderUsers(w http.ResponseWriter, r *http.Request, d admUsersData, status int, msg string, fields map[string]string) error {
	list, err := ui.api.ListUsers(r.Context())
	if err != nil {
		return err
	}
	d.Items = list.Items
	if d.Policy.MaxLifetime == "" {
		p, err := ui.api.TokenPolicy(r.Context())
		if err != nil {
			return err
		}
		d.Policy = *p
	}
	if s := sessionOf(r); s != nil {
		d.Me = s.user.Username
	}
	if d.NewRole == "" {
		d.NewRole = "user"
	}
	ui.render(w, r, page{name: "users", title: "Users", section: "settings", data: d, status: status, err: msg, fields: fields})
	return nil
}

func (ui *UI) usersPage(w http.ResponseWriter, r *http.Request) error {
	return ui.renderUsers(w, r, admUsersData{}, 0, "", nil)
}

// createUser adds a user with a generated password, shown this once.
func (ui *UI) createUser(w http.ResponseWriter, r *http.Request) error {
	name, role := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("role")
	c, err := ui.api.CreateUser(r.Context(), client.NewUser{Username: name, Role: role})
	if msg, fields, ok := formError(err); ok {
		return ui.renderUsers(w, r, admUsersData{NewName: name, NewRole: role}, http.StatusUnprocessableEntity, msg, fields)
	}
	if err != nil {
		return err
	}
	return ui.renderUsers(w, r, admUsersData{SecretUser: c.User.Username, Secret: c.Password}, 0, "", nil)
}

// userAction runs one change on the path's user; a refusal is shown on
// the users page.
func (ui *UI) userAction(w http.ResponseWriter, r *http.Request, do func(id int64) (string, error)) error {
	id, ok := ui.adminPathID(w, r)
	if !ok {
		return nil
	}
	done, err := do(id)
	if msg, fields, ok := formError(err); ok {
		return ui.renderUsers(w, r, admUsersData{}, http.StatusUnprocessableEntity, msg, fields)
	}
	if err != nil {
		return err
	}
	redirect(w, r, "/settings/users", done)
	return nil
}

func (ui *UI) resetUserPassword(w http.ResponseWriter, r *http.Request) error {
	id, ok := ui.adminPathID(w, r)
	if !ok {
		return nil
	}
	users, err := ui.api.ListUsers(r.Context())
	if err != nil {
		return err
	}
	name := "#" + strconv.FormatInt(id, 10)
	for _, u := range users.Items {
		if u.ID == id {
			name = u.Username
		}
	}
	p, err := ui.api.ResetPassword(r.Context(), id)
	if msg, fields, ok := formError(err); ok {
		return ui.renderUsers(w, r, admUsersData{}, http.StatusUnprocessableEntity, msg, fields)
	}
	if err != nil {
		return err
	}
	return ui.renderUsers(w, r, admUsersData{SecretUser: name, Secret: p.Password}, 0, "", nil)
}

func (ui *UI) changeUserRole(w http.ResponseWriter, r *http.Request) error {
	return ui.userAction(w, r, func(id int64) (string, error) {
		u, err := ui.api.UpdateUser(r.Context(), id, client.UserUpdate{Role: r.PostFormValue("role")})
		if err != nil {
			return "", err
		}
		return "User " + u.Username + " is now " + u.Role + ".", nil
	})
}

func (ui *UI) setDisabled(w http.ResponseWriter, r *http.Request, disabled bool) error {
	return ui.userAction(w, r, func(id int64) (string, error) {
		u, err := ui.api.UpdateUser(r.Context(), id, client.UserUpdate{Disabled: &disabled})
		if err != nil {
			return "", err
		}
		if disabled {
			return "User " + u.Username + " disabled.", nil
		}
		return "User " + u.Username + " enabled.", nil
	})
}

func (ui *UI) disableUser(w http.ResponseWriter, r *http.Request) error {
	return ui.setDisabled(w, r, true)
}
func (ui *UI) enableUser(w http.ResponseWriter, r *http.Request) error {
	return ui.setDisabled(w, r, false)
}

// unlockUser ends the path's user's sign-in backoff.
func (ui *UI) unlockUser(w http.ResponseWriter, r *http.Request) error {
	return ui.userAction(w, r, func(id int64) (string, error) {
		u, err := ui.api.UnlockUser(r.Context(), id)
		if err != nil {
			return "", err
		}
		return "Sign-in backoff ended: " + strconv.Itoa(u.Cleared) + " failure records cleared.", nil
	})
}

// setTokenPolicy changes the maximum API token lifetime.
func (ui *UI) setTokenPolicy(w http.ResponseWriter, r *http.Request) error {
	in := client.TokenPolicy{MaxLifetime: strings.TrimSpace(r.PostFormValue("max_lifetime"))}
	p, err := ui.api.SetTokenPolicy(r.Context(), in)
	if msg, fields, ok := formError(err); ok {
		return ui.renderUsers(w, r, admUsersData{Policy: in}, http.StatusUnprocessableEntity, msg, fields)
	}
	if err != nil {
		return err
	}
	done := "API tokens have no maximum lifetime."
	if p.MaxLifetime != "" {
		done = "API tokens now live at most " + p.MaxLifetime + "."
	}
	redirect(w, r, "/settings/users", done)
	return nil
}
