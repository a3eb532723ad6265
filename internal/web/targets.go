package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/certkeeper/certkeeper/client"
)

// targetMethods are the method select's choices, in the order shown.
var targetMethods = []string{"directory", "ssh", "agent", "manual"}

// The target screens. Everyone reads targets; only admins create, change
// or delete them (a target's commands run on the machine it names), so
// the form pages are admin pages.
func (ui *UI) targetRoutes() []route {
	return []route{
		{"GET", "/targets", user, ui.targetList},
		{"GET", "/targets/new", admin, ui.targetNew},
		{"GET", "/targets/preset", admin, ui.targetPresetBlock},
		{"POST", "/targets", admin, ui.targetCreate},
		{"GET", "/targets/{id}", user, ui.targetShow},
		{"GET", "/targets/{id}/edit", admin, ui.targetEdit},
		{"POST", "/targets/{id}/edit", admin, ui.targetUpdate},
		{"POST", "/targets/{id}/delete", admin, ui.targetDelete},
	}
}

// targetRow is a target with its most recently changed deployment (nil
// when it has none).
type targetRow struct {
	T      client.Target
	Latest *client.Deployment
}

type targetListData struct {
	Rows []targetRow
	Next string
}

func (ui *UI) targetList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	l, err := ui.api.ListTargets(ctx, listPage(r))
	if err != nil {
		return err
	}
	data := targetListData{Next: l.Next}
	for _, t := range l.Items {
		row := targetRow{T: t}
		if row.Latest, err = ui.latestDeployment(r, t.ID); err != nil {
			return err
		}
		data.Rows = append(data.Rows, row)
	}
	ui.render(w, r, page{name: "targets", title: "Targets", section: "targets", data: data})
	return nil
}

// latestDeployment returns the newest deployment to target id, or nil.
func (ui *UI) latestDeployment(r *http.Request, id int64) (*client.Deployment, error) {
	l, err := ui.api.ListDeployments(r.Context(), client.DeploymentQuery{TargetID: id, Newest: true,
		Page: client.Page{Limit: 1}})
	if err != nil || len(l.Items) == 0 {
		return nil, err
	}
	return &l.Items[0], nil
}

// targetData fills a target's page.
type targetData struct {
	T      *client.Target
	Preset *client.Preset
	// Deployments are one page of the target's processes.
	Deployments []client.Deployment
	Next        string
	// CertificateID is what was typed in a refused start form.
	CertificateID string
}

func (ui *UI) targetShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return ui.renderTarget(w, r, id, 0, "", nil, "")
}

// renderTarget shows target id, with a refused form's message and field
// errors when msg is set.
func (ui *UI) renderTarget(w http.ResponseWriter, r *http.Request, id int64, status int, msg string, fields map[string]string, certID string) error {
	ctx := r.Context()
	t, err := ui.api.GetTarget(ctx, id)
	if err != nil {
		return err
	}
	data := targetData{T: t, CertificateID: certID}
	presets, err := ui.api.ListPresets(ctx)
	if err != nil {
		return err
	}
	data.Preset = findPreset(presets.Items, t.Preset)
	l, err := ui.api.ListDeployments(ctx, client.DeploymentQuery{TargetID: id, Page: listPage(r)})
	if err != nil {
		return err
	}
	data.Deployments, data.Next = l.Items, l.Next
	ui.render(w, r, page{name: "target", title: "Target " + t.Name, section: "targets", data: data,
		status: status, err: msg, fields: fields})
	return nil
}

// findPreset returns the preset called name, or nil.
func findPreset(presets []client.Preset, name string) *client.Preset {
	for i := range presets {
		if presets[i].Name == name {
			return &presets[i]
		}
	}
	return nil
}

// targetForm is the create and edit form: the values as typed. Secrets
// are never in it, only whether they are stored.
type targetForm struct {
	Edit                           bool
	ID, Version                    int64
	Name, Preset, Method           string
	Directory, Owner               string
	TestCommand, ReloadCommand     string
	Timeout                        string
	SSHHost, SSHPort, SSHUser      string
	SSHHostKey                     string
	AgentID                        int64
	CheckHost, CheckPort, CheckSNI string
	CheckClientCertificateID       string
	AdminEmail                     string
	Rollback                       bool
	Notes                          string
	HasSSHPassword, HasSSHKey      bool
	HasKeystorePassword            bool
	// Choices of the selects, and the chosen preset (nil when unknown).
	Presets []client.Preset
	Agents  []client.Agent
	Methods []string
	Chosen  *client.Preset
}

// targetFormOf fills the form from a stored target.
func targetFormOf(t *client.Target) targetForm {
	f := targetForm{Edit: true, ID: t.ID, Version: t.Version, Name: t.Name, Preset: t.Preset, Method: t.Method,
		Directory: t.Directory, Owner: t.Owner, TestCommand: t.TestCommand, ReloadCommand: t.ReloadCommand,
		AgentID: t.AgentID, CheckHost: t.Check.Host, CheckSNI: t.Check.SNI, AdminEmail: t.AdminEmail,
		Rollback: t.RollbackOnFailure, Notes: t.Notes, HasSSHPassword: t.HasSSHPassword, HasSSHKey: t.HasSSHKey,
		HasKeystorePassword: t.HasKeystorePassword}
	f.Timeout = itoaNonZero(t.ReloadTimeoutSeconds)
	f.CheckPort = itoaNonZero(t.Check.Port)
	if t.Check.ClientCertificateID != 0 {
		f.CheckClientCertificateID = strconv.FormatInt(t.Check.ClientCertificateID, 10)
	}
	if t.SSH != nil {
		f.SSHHost, f.SSHPort, f.SSHUser, f.SSHHostKey = t.SSH.Host, itoaNonZero(t.SSH.Port), t.SSH.User, t.SSH.HostKey
	}
	return f
}

// itoaNonZero is n in decimal, or "" for 0.
func itoaNonZero(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// readTargetForm reads the posted form, without the secrets.
func readTargetForm(r *http.Request) targetForm {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	version, _ := strconv.ParseInt(v("version"), 10, 64)
	agent, _ := strconv.ParseInt(v("agent_id"), 10, 64)
	return targetForm{Version: version, Name: v("name"), Preset: v("preset"), Method: v("method"),
		Directory: v("directory"), Owner: v("owner"), TestCommand: v("test_command"), ReloadCommand: v("reload_command"),
		Timeout: v("reload_timeout_seconds"), SSHHost: v("ssh_host"), SSHPort: v("ssh_port"), SSHUser: v("ssh_user"),
		SSHHostKey: v("ssh_host_key"), AgentID: agent, CheckHost: v("check_host"), CheckPort: v("check_port"),
		CheckSNI: v("check_sni"), CheckClientCertificateID: v("check_client_certificate_id"), AdminEmail: v("admin_email"),
		Rollback: r.PostFormValue("rollback_on_failure") != "", Notes: r.PostFormValue("notes")}
}

// input turns the form into the API's input: numbers that are not
// numbers are refused here, everything else by the API. The commands
// and the roll back choice are sent only when the form had them (absent,
// a new target takes the preset's), the secrets only when typed or
// removed.
func (f targetForm) input(r *http.Request) (client.TargetInput, error) {
	in := client.TargetInput{Name: f.Name, Preset: f.Preset, Method: f.Method, Directory: f.Directory, Owner: f.Owner,
		Check: client.CheckSpec{Host: f.CheckHost, SNI: f.CheckSNI}, AdminEmail: f.AdminEmail, Notes: f.Notes}
	var err error
	if in.ReloadTimeoutSeconds, err = formInt(f.Timeout, "reload_timeout_seconds"); err != nil {
		return in, err
	}
	if in.Check.Port, err = formInt(f.CheckPort, "check.port"); err != nil {
		return in, err
	}
	cert, err := formInt(f.CheckClientCertificateID, "check.client_certificate_id")
	if err != nil {
		return in, err
	}
	in.Check.ClientCertificateID = int64(cert)
	switch f.Method {
	case "ssh":
		in.SSH = &client.SSHAccess{Host: f.SSHHost, User: f.SSHUser, HostKey: f.SSHHostKey}
		if in.SSH.Port, err = formInt(f.SSHPort, "ssh.port"); err != nil {
			return in, err
		}
	case "agent":
		in.AgentID = f.AgentID
	}
	if _, ok := r.PostForm["test_command"]; ok {
		in.TestCommand = &f.TestCommand
	}
	if _, ok := r.PostForm["reload_command"]; ok {
		in.ReloadCommand = &f.ReloadCommand
	}
	if r.PostFormValue("rollback_shown") != "" {
		in.RollbackOnFailure = &f.Rollback
	}
	if f.Method == "ssh" {
		// Other methods take no SSH secret: what a hidden fieldset holds
		// is not sent.
		in.SSHPassword = secretInput(r, "ssh_password")
		in.SSHPrivateKey = secretInput(r, "ssh_private_key")
	}
	in.KeystorePassword = secretInput(r, "keystore_password")
	return in, nil
}

// secretInput reads a write-only field: what was typed, "" when its
// "clear_" box is ticked (remove the stored one), nil to keep it.
func secretInput(r *http.Request, name string) *string {
	if s := r.PostFormValue(name); s != "" {
		return &s
	}
	if r.PostFormValue("clear_"+name) != "" {
		s := ""
		return &s
	}
	return nil
}

// renderTargetForm shows the create or edit form.
func (ui *UI) renderTargetForm(w http.ResponseWriter, r *http.Request, f targetForm, status int, msg string, fields map[string]string) error {
	ctx := r.Context()
	presets, err := ui.api.ListPresets(ctx)
	if err != nil {
		return err
	}
	agents, err := ui.api.ListAgents(ctx)
	if err != nil {
		return err
	}
	f.Presets, f.Agents, f.Methods = presets.Items, agents.Items, targetMethods
	f.Chosen = findPreset(f.Presets, f.Preset)
	title := "New target"
	if f.Edit {
		title = "Edit target " + f.Name
	}
	ui.render(w, r, page{name: "target_form", title: title, section: "targets", data: f,
		status: status, err: msg, fields: fields})
	return nil
}

func (ui *UI) targetNew(w http.ResponseWriter, r *http.Request) error {
	presets, err := ui.api.ListPresets(r.Context())
	if err != nil {
		return err
	}
	f := targetForm{Method: "directory", Rollback: true}
	if len(presets.Items) > 0 {
		f.Preset = presets.Items[0].Name
		if p := findPreset(presets.Items, r.URL.Query().Get("preset")); p != nil {
			f.Preset = p.Name
		}
		p := findPreset(presets.Items, f.Preset)
		f.TestCommand, f.ReloadCommand = p.TestCommand, p.ReloadCommand
	}
	return ui.renderTargetForm(w, r, f, 0, "", nil)
}

// targetPresetBlock answers the form's preset block for the preset
// chosen in the select (htmx swaps it in): the preset's files and
// instructions, and the commands filled with its defaults.
func (ui *UI) targetPresetBlock(w http.ResponseWriter, r *http.Request) error {
	presets, err := ui.api.ListPresets(r.Context())
	if err != nil {
		return err
	}
	f := targetForm{Presets: presets.Items, Preset: r.URL.Query().Get("preset")}
	if f.Chosen = findPreset(presets.Items, f.Preset); f.Chosen != nil {
		f.TestCommand, f.ReloadCommand = f.Chosen.TestCommand, f.Chosen.ReloadCommand
	}
	v := ui.view(r, "", f)
	if err := write(w, ui.pages["target_form"], "preset-block", v, 0); err != nil {
		return fmt.Errorf("web: render preset block: %w", err)
	}
	return nil
}

func (ui *UI) targetCreate(w http.ResponseWriter, r *http.Request) error {
	f := readTargetForm(r)
	in, err := f.input(r)
	var t *client.Target
	if err == nil {
		t, err = ui.api.CreateTarget(r.Context(), in)
	}
	return ui.targetSaved(w, r, f, t, err,
		"Target %s created. Deploy a certificate to it from here or from the certificate's page.")
}

// targetSaved answers a submitted target form: the form again with the
// API's refusal, else a redirect to target t with done (its name filled
// in) as the message.
func (ui *UI) targetSaved(w http.ResponseWriter, r *http.Request, f targetForm, t *client.Target, err error, done string) error {
	if msg, fields, ok := formError(err); ok {
		return ui.renderTargetForm(w, r, f, http.StatusUnprocessableEntity, msg, fields)
	}
	if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/targets/%d", t.ID), fmt.Sprintf(done, t.Name))
	return nil
}

// pathTarget returns the target whose ID is the path's {id}.
func (ui *UI) pathTarget(r *http.Request) (*client.Target, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return ui.api.GetTarget(r.Context(), id)
}

func (ui *UI) targetEdit(w http.ResponseWriter, r *http.Request) error {
	t, err := ui.pathTarget(r)
	if err != nil {
		return err
	}
	return ui.renderTargetForm(w, r, targetFormOf(t), 0, "", nil)
}

func (ui *UI) targetUpdate(w http.ResponseWriter, r *http.Request) error {
	cur, err := ui.pathTarget(r)
	if err != nil {
		return err
	}
	f := readTargetForm(r)
	f.Edit, f.ID = true, cur.ID
	f.HasSSHPassword, f.HasSSHKey, f.HasKeystorePassword = cur.HasSSHPassword, cur.HasSSHKey, cur.HasKeystorePassword
	in, err := f.input(r)
	var t *client.Target
	if err == nil {
		t, err = ui.api.UpdateTarget(r.Context(), cur.ID, f.Version, in)
	}
	if client.IsPreconditionFailed(err) {
		msg := fmt.Sprintf("Someone changed this target after you opened it, so your changes were not saved. "+
			"Open the target again to see the current values, then make your changes again. "+
			"(You edited version %d; it is now at version %d, last changed %s.)", f.Version, cur.Version, fmtDateTime(cur.UpdatedAt))
		return ui.renderTargetForm(w, r, f, http.StatusConflict, msg, nil)
	}
	return ui.targetSaved(w, r, f, t, err, "Target %s saved.")
}

func (ui *UI) targetDelete(w http.ResponseWriter, r *http.Request) error {
	t, err := ui.pathTarget(r)
	if err != nil {
		return err
	}
	err = ui.api.DeleteTarget(r.Context(), t.ID)
	if msg, fields, ok := formError(err); ok {
		return ui.renderTarget(w, r, t.ID, http.StatusUnprocessableEntity, "The target was not deleted: "+msg, fields, "")
	}
	if err != nil {
		return err
	}
	redirect(w, r, "/targets", fmt.Sprintf("Target %s deleted, with its deployment history.", t.Name))
	return nil
}
