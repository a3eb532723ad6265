package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/certkeeper/certkeeper/client"
)

// minPackagePassword is the shortest password of a one-click package
// (the API's rule, checked first so that the form can say so).
const minPackagePassword = 12

// openDeploymentStates are the states of the "ongoing" section: the
// processes that wait for something, and the failed ones.
const openDeploymentStates = "prepared,install_requested,installed,failed"

// deploymentStates are the state filter's choices after "open" and "all".
var deploymentStates = []string{"prepared", "install_requested", "installed", "confirmed", "failed", "rolled_back"}

func (ui *UI) deploymentRoutes() []route {
	return []route{
		{"GET", "/deployments", user, ui.deploymentList},
		{"POST", "/deployments", user, ui.deploymentStart},
		{"GET", "/deployments/{id}", user, ui.deploymentShow},
		{"POST", "/deployments/{id}/install", user, ui.deploymentInstall},
		{"POST", "/deployments/{id}/check", user, ui.deploymentCheck},
		{"POST", "/deployments/{id}/continue", user, ui.deploymentContinue},
		{"POST", "/deployments/{id}/rollback", user, ui.deploymentRollback},
		{"POST", "/deployments/{id}/report", user, ui.deploymentReport},
		{"POST", "/deployments/{id}/package", admin, ui.deploymentPackage},
		{"GET", "/deployments/{id}/zip", admin, ui.deploymentZip},
		{"POST", "/deployments/{id}/request", admin, ui.deploymentRequest},
	}
}

type deploymentListData struct {
	State    string
	States   []string
	TargetID int64
	Targets  []client.Target
	// CertificateID narrows both sections to one certificate (0: all).
	CertificateID int64
	Ongoing       []client.Deployment
	Next          string
	// Failed are the deployments whose last check failed, one page of
	// them (FailedNext is the link to the next).
	Failed     []client.Deployment
	FailedNext string
}

// deploymentList shows the ongoing processes and, apart, the
// certificates whose last check failed.
func (ui *UI) deploymentList(w http.ResponseWriter, r *http.Request) error {
	ctx, q := r.Context(), r.URL.Query()
	data := deploymentListData{State: q.Get("state"), States: deploymentStates}
	if data.State == "" {
		data.State = "open"
	}
	data.TargetID, _ = strconv.ParseInt(q.Get("target"), 10, 64)
	data.CertificateID, _ = strconv.ParseInt(q.Get("certificate"), 10, 64)
	dq := client.DeploymentQuery{State: data.State, TargetID: data.TargetID, CertificateID: data.CertificateID, Page: listPage(r)}
	switch data.State {
	case "open":
		dq.State = openDeploymentStates
	case "all":
		dq.State = ""
	}
	l, err := ui.api.ListDeployments(ctx, dq)
	if err != nil {
		return err
	}
	data.Ongoing, data.Next = l.Items, l.Next
	failed, err := ui.api.ListDeployments(ctx, client.DeploymentQuery{CheckFailed: true, Latest: true, TargetID: data.TargetID,
		CertificateID: data.CertificateID, Page: client.Page{Limit: listLimit, After: q.Get("failed_after")}})
	if err != nil {
		return err
	}
	data.Failed = failed.Items
	if failed.Next != "" {
		data.FailedNext = withQuery(r.URL.Path, q, "failed_after", failed.Next)
	}
	targets, err := ui.api.ListTargets(ctx, client.Page{Limit: 1000})
	if err != nil {
		return err
	}
	data.Targets = targets.Items
	ui.render(w, r, page{name: "deployments", title: "Deployment processes", section: "deployments", data: data})
	return nil
}

// deploymentStart starts (or finds) the process of a certificate and a
// target, from the certificate's page or the target's, and shows it.
func (ui *UI) deploymentStart(w http.ResponseWriter, r *http.Request) error {
	certText := strings.TrimSpace(r.PostFormValue("certificate_id"))
	certID, err1 := strconv.ParseInt(certText, 10, 64)
	targetID, err2 := strconv.ParseInt(r.PostFormValue("target_id"), 10, 64)
	fromTarget := r.PostFormValue("from") == "target"
	var err error
	switch {
	case err1 != nil || certID <= 0:
		err = apiError(http.StatusUnprocessableEntity, "Give the number of the certificate to deploy, as shown on its page (#12).",
			"certificate_id", "not a certificate number")
	case err2 != nil || targetID <= 0:
		err = apiError(http.StatusUnprocessableEntity, "Choose a target to deploy to.", "target_id", "choose a target")
	}
	var d *client.Deployment
	if err == nil {
		d, err = ui.api.StartDeployment(r.Context(), client.DeploymentStart{CertificateID: certID, TargetID: targetID})
	}
	if msg, fields, ok := formError(err); ok {
		msg = "The deployment did not start: " + msg
		if fromTarget && targetID > 0 {
			fields["certificate_id"] = msg
			return ui.renderTarget(w, r, targetID, http.StatusUnprocessableEntity, msg, fields, certText)
		}
		if certID > 0 {
			fields["target_id"] = msg
			return ui.renderCertificate(w, r, certID, http.StatusUnprocessableEntity, msg, fields, "")
		}
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Deployment #%d of certificate #%d to %s prepared. Install it when ready.", d.ID, certID, d.Target)
	if d.State != "prepared" || d.Attempts > 0 {
		msg = fmt.Sprintf("Certificate #%d already has a deployment to %s: here it is (%s).", certID, d.Target, d.State)
	}
	redirect(w, r, fmt.Sprintf("/deployments/%d", d.ID), msg)
	return nil
}

// deploymentData fills a deployment's page.
type deploymentData struct {
	D      *client.Deployment
	Target *client.Target
	Cert   *client.Certificate
	// Automated says certkeeper installs by itself (not manual).
	Automated bool
	// Form are the values of a refused form (never a password).
	Form map[string]string
}

func (ui *UI) deploymentShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	return ui.renderDeployment(w, r, id, 0, "", nil, nil)
}

// renderDeployment shows deployment id, with a refused form's message,
// field errors and values when msg is set.
func (ui *UI) renderDeployment(w http.ResponseWriter, r *http.Request, id int64, status int, msg string, fields, form map[string]string) error {
	ctx := r.Context()
	d, err := ui.api.GetDeployment(ctx, id)
	if err != nil {
		return err
	}
	data := deploymentData{D: d, Form: form}
	if data.Target, err = ui.api.GetTarget(ctx, d.TargetID); err != nil && !client.IsNotFound(err) {
		return err
	}
	if data.Cert, err = ui.api.GetCertificate(ctx, d.CertificateID); err != nil && !client.IsNotFound(err) {
		return err
	}
	method := d.Method
	if data.Target != nil {
		method = data.Target.Method
	}
	data.Automated = method != "" && method != "manual"
	ui.render(w, r, page{name: "deployment", title: fmt.Sprintf("Deployment #%d", d.ID), section: "deployments", data: data,
		status: status, err: msg, fields: fields})
	return nil
}

// deploymentAction runs an action on deployment id and redirects to it
// with the message act returns, or shows the refusal on its page. An
// htmx request (install, check) gets the refused page as a 200, which
// htmx swaps in, since it leaves error answers unshown.
func (ui *UI) deploymentAction(w http.ResponseWriter, r *http.Request, act func(id int64) (string, error)) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	msg, err := act(id)
	if m, fields, ok := formError(err); ok {
		form := map[string]string{}
		for k, v := range r.PostForm {
			if k != "csrf" && !strings.Contains(k, "password") && len(v) > 0 {
				form[k] = v[0]
			}
		}
		status := http.StatusUnprocessableEntity
		if r.Header.Get("HX-Request") == "true" {
			status = http.StatusOK
		}
		return ui.renderDeployment(w, r, id, status, m, fields, form)
	}
	if err != nil {
		return err
	}
	redirect(w, r, fmt.Sprintf("/deployments/%d", id), msg)
	return nil
}

// stateMessage says where a deployment stands after an action.
func stateMessage(d *client.Deployment) string {
	switch d.State {
	case "confirmed":
		return "The check passed: the server serves the certificate."
	case "installed":
		if d.LastCheck != nil && !d.LastCheck.Passed {
			return "Installed, but the check did not pass: see the last check below."
		}
		return "Installed. Check it, or continue without checking when the server cannot be reached from here."
	case "install_requested":
		return "The install is requested; it continues when the target installs it."
	case "failed":
		return "It failed: see the history below for what happened."
	case "rolled_back":
		return "The previous files are back."
	}
	return "It is " + d.State + "."
}

func (ui *UI) deploymentInstall(w http.ResponseWriter, r *http.Request) error {
	return ui.deploymentAction(w, r, func(id int64) (string, error) {
		d, err := ui.api.InstallDeployment(r.Context(), id)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Install of deployment #%d done (attempt %d). %s", d.ID, d.Attempts, stateMessage(d)), nil
	})
}

func (ui *UI) deploymentCheck(w http.ResponseWriter, r *http.Request) error {
	return ui.deploymentAction(w, r, func(id int64) (string, error) {
		d, err := ui.api.CheckDeployment(r.Context(), id)
		if err != nil {
			return "", err
		}
		if d.LastCheck != nil && !d.LastCheck.Passed {
			return "The check did not pass: see the problems below.", nil
		}
		return "Checked. " + stateMessage(d), nil
	})
}

func (ui *UI) deploymentContinue(w http.ResponseWriter, r *http.Request) error {
	return ui.deploymentAction(w, r, func(id int64) (string, error) {
		reason := strings.TrimSpace(r.PostFormValue("reason"))
		if reason == "" {
			return "", apiError(http.StatusUnprocessableEntity, "Say why the deployment continues without a passing check.",
				"reason", "a reason is required")
		}
		if _, err := ui.api.ContinueDeployment(r.Context(), id, client.ContinueInput{Reason: reason}); err != nil {
			return "", err
		}
		return fmt.Sprintf("Deployment #%d confirmed without a passing check (%s).", id, reason), nil
	})
}

func (ui *UI) deploymentRollback(w http.ResponseWriter, r *http.Request) error {
	return ui.deploymentAction(w, r, func(id int64) (string, error) {
		d, err := ui.api.RollbackDeployment(r.Context(), id)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Deployment #%d rolled back. %s", d.ID, stateMessage(d)), nil
	})
}

func (ui *UI) deploymentReport(w http.ResponseWriter, r *http.Request) error {
	return ui.deploymentAction(w, r, func(id int64) (string, error) {
		_, fh, err := r.FormFile("report")
		if errors.Is(err, http.ErrMissingFile) || errors.Is(err, http.ErrNotMultipart) {
			return "", apiError(http.StatusUnprocessableEntity, "Choose the report file to upload.", "report", "no file chosen")
		}
		if err != nil {
			return "", apiError(http.StatusBadRequest, "The upload could not be read: "+err.Error(), "report", "unreadable")
		}
		data, err := readUpload(fh)
		if err != nil {
			return "", err
		}
		d, err := ui.api.UploadCheckReport(r.Context(), id, data)
		if err != nil {
			return "", err
		}
		if d.LastCheck != nil && !d.LastCheck.Passed {
			return "Report accepted; the check it shows did not pass: see the problems below.", nil
		}
		return "Report accepted. " + stateMessage(d), nil
	})
}

// packagePassword reads the password of a package (typed twice when
// twice), refusing one that is too short or mistyped; field names the
// field error.
func packagePassword(r *http.Request, twice bool, field string) (string, error) {
	pw := r.PostFormValue("password")
	switch {
	case len([]rune(pw)) < minPackagePassword:
		return "", apiError(http.StatusUnprocessableEntity, fmt.Sprintf("The password is too short: use at least %d characters.", minPackagePassword),
			field, fmt.Sprintf("at least %d characters", minPackagePassword))
	case twice && pw != r.PostFormValue("again"):
		return "", apiError(http.StatusUnprocessableEntity, "The two passwords differ: type the same one twice.",
			"again", "does not match the first password")
	}
	return pw, nil
}

// deploymentPackage sends the encrypted one-click package.
func (ui *UI) deploymentPackage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	pw, err := packagePassword(r, true, "password")
	var data []byte
	if err == nil {
		data, err = ui.api.DeploymentPackage(r.Context(), id, client.PackageInput{Password: pw})
	}
	if msg, fields, ok := formError(err); ok {
		return ui.renderDeployment(w, r, id, http.StatusUnprocessableEntity, "No package was made: "+msg, fields, nil)
	}
	if err != nil {
		return err
	}
	sendFile(w, "application/octet-stream", fmt.Sprintf("deployment-%d.ckpkg", id), data)
	return nil
}

// deploymentZip sends the conventional package (a zip with the key in
// clear).
func (ui *UI) deploymentZip(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	data, err := ui.api.DeploymentZip(r.Context(), id)
	if err != nil {
		return err
	}
	sendFile(w, "application/zip", fmt.Sprintf("deployment-%d.zip", id), data)
	return nil
}

func (ui *UI) deploymentRequest(w http.ResponseWriter, r *http.Request) error {
	return ui.deploymentAction(w, r, func(id int64) (string, error) {
		pw, err := packagePassword(r, false, "request_password")
		if err != nil {
			return "", err
		}
		in := client.InstallRequest{Password: pw, To: strings.TrimSpace(r.PostFormValue("to")),
			Message: strings.TrimSpace(r.PostFormValue("message"))}
		if _, err := ui.api.RequestInstall(r.Context(), id, in); err != nil {
			return "", err
		}
		to := in.To
		if to == "" {
			to = "the target's administrator"
		}
		return fmt.Sprintf("Install request sent to %s with the encrypted package. Give them the password another way.", to), nil
	})
}
