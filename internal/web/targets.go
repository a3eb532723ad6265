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

// targetForm is the create and edit form. It keeps no copy of a
// target's fields: In is the API's input as the form holds it
// (readTargetForm reads the posted fields straight into it, targetFormOf
// fills it from a stored target), and Typed keeps the number fields as
// typed, so that one that does not parse is shown again as typed. In
// always has its SSH access, commands and roll back set, for display;
// input decides which of them are sent. Which form field stands for
// which input field is checked against mirror.Target by
// TestTargetFormMirrors. Secrets are never in it, only whether they are
// stored.
type targetForm struct {
	Edit        bool
	ID, Version int64
	In          client.TargetInput
	// Typed is the text of the number fields, by form field name.
	Typed                     map[string]string
	HasSSHPassword, HasSSHKey bool
	HasKeystorePassword       bool
	// Choices of the selects, and the chosen preset (nil when unknown).
	Presets []client.Preset
	Agents  []client.Agent
	Methods []string
	Chosen  *client.Preset
}

// targetTextField is a text field of the form and the input field it
// fills as typed (trimmed).
type targetTextField struct {
	name  string
	field func(*client.TargetInput) *string
}

// targetTextFields are the form's text fields; readTargetForm reads
// them onto the input.
func targetTextFields() []targetTextField {
	return []targetTextField{
		{"name", func(in *client.TargetInput) *string { return &in.Name }},
		{"preset", func(in *client.TargetInput) *string { return &in.Preset }},
		{"method", func(in *client.TargetInput) *string { return &in.Method }},
		{"directory", func(in *client.TargetInput) *string { return &in.Directory }},
		{"owner", func(in *client.TargetInput) *string { return &in.Owner }},
		{"ssh_host", func(in *client.TargetInput) *string { return &in.SSH.Host }},
		{"ssh_user", func(in *client.TargetInput) *string { return &in.SSH.User }},
		{"ssh_host_key", func(in *client.TargetInput) *string { return &in.SSH.HostKey }},
		{"check_host", func(in *client.TargetInput) *string { return &in.Check.Host }},
		{"check_sni", func(in *client.TargetInput) *string { return &in.Check.SNI }},
		{"check_starttls", func(in *client.TargetInput) *string { return &in.Check.StartTLS }},
		{"admin_email", func(in *client.TargetInput) *string { return &in.AdminEmail }},
	}
}

// newTargetForm is the form holding in, with its SSH access, commands
// and roll back set for display.
func newTargetForm(in client.TargetInput, testCommand, reloadCommand string, rollback bool) targetForm {
	if in.SSH == nil {
		in.SSH = &client.SSHAccess{}
	}
	in.TestCommand, in.ReloadCommand, in.RollbackOnFailure = &testCommand, &reloadCommand, &rollback
	return targetForm{In: in, Typed: map[string]string{}}
}

// targetFormOf fills the form from a stored target.
func targetFormOf(t *client.Target) targetForm {
	f := newTargetForm(t.Input(), t.TestCommand, t.ReloadCommand, t.RollbackOnFailure)
	f.Edit, f.ID, f.Version = true, t.ID, t.Version
	f.HasSSHPassword, f.HasSSHKey, f.HasKeystorePassword = t.HasSSHPassword, t.HasSSHKey, t.HasKeystorePassword
	f.Typed["reload_timeout_seconds"] = itoaNonZero(t.ReloadTimeoutSeconds)
	f.Typed["check_port"] = itoaNonZero(t.Check.Port)
	if t.Check.ClientCertificateID != 0 {
		f.Typed["check_client_certificate_id"] = strconv.FormatInt(t.Check.ClientCertificateID, 10)
	}
	if t.SSH != nil {
		f.Typed["ssh_port"] = itoaNonZero(t.SSH.Port)
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
	f := newTargetForm(client.TargetInput{Notes: r.PostFormValue("notes")}, v("test_command"), v("reload_command"),
		r.PostFormValue("rollback_on_failure") != "")
	for _, t := range targetTextFields() {
		*t.field(&f.In) = v(t.name)
	}
	f.Version, _ = strconv.ParseInt(v("version"), 10, 64)
	f.In.AgentID, _ = strconv.ParseInt(v("agent_id"), 10, 64)
	for _, name := range []string{"reload_timeout_seconds", "ssh_port", "check_port", "check_client_certificate_id"} {
		f.Typed[name] = v(name)
	}
	return f
}

// TestCommand, ReloadCommand and Rollback are the form's values of
// In's pointers.
func (f targetForm) TestCommand() string   { return deref(f.In.TestCommand) }
func (f targetForm) ReloadCommand() string { return deref(f.In.ReloadCommand) }
func (f targetForm) Rollback() bool        { return f.In.RollbackOnFailure != nil && *f.In.RollbackOnFailure }

// SSH is the form's SSH access (none: empty).
func (f targetForm) SSH() client.SSHAccess {
	if f.In.SSH == nil {
		return client.SSHAccess{}
	}
	return *f.In.SSH
}

// deref is *p, or "" for nil.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// input turns the form into what is sent to the API: numbers that are
// not numbers are refused here, everything else by the API. The SSH
// access and the agent are sent only for their method, the commands and
// the roll back choice only when the form had them (absent, a new
// target takes the preset's), the secrets only when typed or removed.
func (f targetForm) input(r *http.Request) (client.TargetInput, error) {
	in := f.In
	in.SSH, in.AgentID, in.TestCommand, in.ReloadCommand, in.RollbackOnFailure = nil, 0, nil, nil, nil
	var err error
	if in.ReloadTimeoutSeconds, err = formInt(f.Typed["reload_timeout_seconds"], "reload_timeout_seconds"); err != nil {
		return in, err
	}
	if in.Check.Port, err = formInt(f.Typed["check_port"], "check.port"); err != nil {
		return in, err
	}
	cert, err := formInt(f.Typed["check_client_certificate_id"], "check.client_certificate_id")
	if err != nil {
		return in, err
	}
	in.Check.ClientCertificateID = int64(cert)
	switch in.Method {
	case "ssh":
		ssh := f.SSH()
		in.SSH = &ssh
		if in.SSH.Port, err = formInt(f.Typed["ssh_port"], "ssh.port"); err != nil {
			return in, err
		}
		// Other methods take no SSH secret: what a hidden fieldset holds
		// is not sent.
		in.SSHPassword = secretInput(r, "ssh_password")
		in.SSHPrivateKey = secretInput(r, "ssh_private_key")
	case "agent":
		in.AgentID = f.In.AgentID
	}
	if _, ok := r.PostForm["test_command"]; ok {
		in.TestCommand = f.In.TestCommand
	}
	if _, ok := r.PostForm["reload_command"]; ok {
		in.ReloadCommand = f.In.ReloadCommand
	}
	if r.PostFormValue("rollback_shown") != "" {
		in.RollbackOnFailure = f.In.RollbackOnFailure
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
	f.Chosen = findPreset(f.Presets, f.In.Preset)
	title := "New target"
	if f.Edit {
		title = "Edit target " + f.In.Name
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
	in := client.TargetInput{Method: "directory"}
	var test, reload string
	if len(presets.Items) > 0 {
		in.Preset = presets.Items[0].Name
		if p := findPreset(presets.Items, r.URL.Query().Get("preset")); p != nil {
			in.Preset = p.Name
		}
		p := findPreset(presets.Items, in.Preset)
		test, reload = p.TestCommand, p.ReloadCommand
	}
	return ui.renderTargetForm(w, r, newTargetForm(in, test, reload, true), 0, "", nil)
}

// targetPresetBlock answers the form's preset block for the preset
// chosen in the select (htmx swaps it in): the preset's files and
// instructions, and the commands filled with its defaults.
func (ui *UI) targetPresetBlock(w http.ResponseWriter, r *http.Request) error {
	presets, err := ui.api.ListPresets(r.Context())
	if err != nil {
		return err
	}
	in := client.TargetInput{Preset: r.URL.Query().Get("preset")}
	var test, reload string
	chosen := findPreset(presets.Items, in.Preset)
	if chosen != nil {
		test, reload = chosen.TestCommand, chosen.ReloadCommand
	}
	f := newTargetForm(in, test, reload, false)
	f.Presets, f.Chosen = presets.Items, chosen
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
