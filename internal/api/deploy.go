package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/mail"
)

var (
	deploymentParams = append([]param{
		{"state", "string", "comma-separated states, or ongoing"},
		{"certificate_id", "integer", "certificate"}, {"target_id", "integer", "target"},
		{"definition_id", "integer", "definition"},
		{"check_failed", "boolean", "true: only deployments whose last check did not pass"},
		{"order", "string", "oldest (default) or newest first"},
		{"latest", "boolean", "true: only each target's newest deployment (what it should serve now)"},
	}, pageParams...)
	targetIfMatch = []param{{"If-Match", "string", `the target's ETag, "VERSION" (required)`}}
)

// maxReport bounds an uploaded check report.
const maxReport = 4 << 20

func (a *API) deploymentRoutes() []route {
	tgt, tgtIn, dep := typeOf[client.Target](), typeOf[client.TargetInput](), typeOf[client.Deployment]()
	return []route{
		{method: "GET", pattern: "/api/v1/targets", op: "listTargets", role: user, summary: "List deployment targets (never their secrets)",
			query: pageParams, out: typeOf[client.TargetList](), handle: a.listTargets},
		{method: "POST", pattern: "/api/v1/targets", op: "createTarget", role: admin, summary: "Add a deployment target",
			in: tgtIn, out: tgt, status: http.StatusCreated, handle: a.createTarget},
		{method: "GET", pattern: "/api/v1/targets/{id}", op: "getTarget", role: user,
			summary: "Get a target (ETag: its version; never its secrets)", out: tgt, handle: a.getTarget},
		{method: "PUT", pattern: "/api/v1/targets/{id}", op: "updateTarget", role: admin,
			summary: "Replace a target (If-Match required); absent secrets are kept", header: targetIfMatch,
			in: tgtIn, out: tgt, handle: a.updateTarget},
		{method: "DELETE", pattern: "/api/v1/targets/{id}", op: "deleteTarget", role: admin,
			summary: "Delete a target and its deployment history", status: http.StatusNoContent, handle: a.deleteTarget},
		{method: "GET", pattern: "/api/v1/presets", op: "listPresets", role: user,
			summary: "List the built-in presets and the user layouts", out: typeOf[client.PresetList](), handle: a.listPresets},
		{method: "PUT", pattern: "/api/v1/presets/{name}", op: "putPreset", role: admin,
			summary: "Create or replace a user layout", in: typeOf[client.Preset](), out: typeOf[client.Preset](),
			handle: a.putPreset},
		{method: "DELETE", pattern: "/api/v1/presets/{name}", op: "deletePreset", role: admin,
			summary: "Delete a user layout no target uses", status: http.StatusNoContent, handle: a.deletePreset},
		{method: "GET", pattern: "/api/v1/deployments", op: "listDeployments", role: user, summary: "List deployments",
			query: deploymentParams, out: typeOf[client.DeploymentList](), handle: a.listDeployments},
		{method: "POST", pattern: "/api/v1/deployments", op: "startDeployment", role: user, in: typeOf[client.DeploymentStart](),
			summary: "Start the deployment of a certificate to a target, or get the existing one", out: dep,
			status: http.StatusCreated, handle: a.startDeployment},
		{method: "GET", pattern: "/api/v1/deployments/{id}", op: "getDeployment", role: user,
			summary: "Get a deployment with its steps", out: dep, handle: a.getDeployment},
		{method: "POST", pattern: "/api/v1/deployments/{id}/install", op: "installDeployment", role: user,
			summary: "Install now (directory, ssh) or queue for the agent", out: dep, handle: a.deploymentAction((*deploy.Service).Install)},
		{method: "POST", pattern: "/api/v1/deployments/{id}/check", op: "checkDeployment", role: user,
			summary: "Check what the target's server serves", out: dep, handle: a.deploymentAction((*deploy.Service).Check)},
		{method: "POST", pattern: "/api/v1/deployments/{id}/continue", op: "continueDeployment", role: user,
			summary: "Confirm without a passing check, giving the reason", in: typeOf[client.ContinueInput](), out: dep,
			handle: a.continueDeployment},
		{method: "POST", pattern: "/api/v1/deployments/{id}/rollback", op: "rollbackDeployment", role: user,
			summary: "Restore the files the last install replaced", out: dep, handle: a.deploymentAction((*deploy.Service).Rollback)},
		{method: "POST", pattern: "/api/v1/deployments/{id}/package", op: "deploymentPackage", role: admin,
			summary: "Download the encrypted one-click package (holds the private key; audited)", in: typeOf[client.PackageInput](),
			outMedia: "application/octet-stream", handle: a.deploymentPackage},
		{method: "GET", pattern: "/api/v1/deployments/{id}/zip", op: "deploymentZip", role: admin, outMedia: "application/zip",
			summary: "Download the files and install steps as a zip (holds the private key; audited)", handle: a.deploymentZip},
		{method: "POST", pattern: "/api/v1/deployments/{id}/request", op: "requestInstall", role: admin,
			summary: "E-mail the install request with the encrypted package attached", in: typeOf[client.InstallRequest](),
			out: dep, handle: a.requestInstall},
		{method: "POST", pattern: "/api/v1/deployments/{id}/report", op: "uploadCheckReport", role: user,
			summary: "Hand in a check report made on site (certkeeper check --report)", inMedia: "application/json",
			out: dep, limit: maxReport, handle: a.uploadCheckReport},
	}
}

func (a *API) listTargets(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	list, next, err := a.Deploy.ListTargets(r.Context(), p)
	if err != nil {
		return err
	}
	out := client.TargetList{Items: make([]client.Target, len(list)), Next: next}
	for i := range list {
		out.Items[i] = targetOut(&list[i])
	}
	return ok(w, out)
}

func (a *API) createTarget(w http.ResponseWriter, r *http.Request) error {
	ti, err := decodeTarget(r)
	if err != nil {
		return err
	}
	v, err := a.Deploy.CreateTarget(r.Context(), actor(r), ti)
	if err != nil {
		return err
	}
	return writeTarget(w, http.StatusCreated, v)
}

func writeTarget(w http.ResponseWriter, code int, v *deploy.TargetView) error {
	w.Header().Set("ETag", etag(v.Version))
	return writeJSON(w, code, targetOut(v))
}

func (a *API) getTarget(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := a.Deploy.GetTarget(r.Context(), id)
	if err != nil {
		return err
	}
	return writeTarget(w, http.StatusOK, v)
}

// updateTarget replaces a target under optimistic concurrency: If-Match
// must carry the version read (RFC 9110 section 13.1.1); none is 428,
// another version 412.
func (a *API) updateTarget(w http.ResponseWriter, r *http.Request) error {
	version, err := targetVersion(r)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	cur, err := a.Deploy.GetTarget(r.Context(), id)
	if err != nil {
		return err
	}
	if cur.Version != version {
		return staleTarget(cur.Version, version)
	}
	ti, err := decodeTarget(r)
	if err != nil {
		return err
	}
	v, err := a.Deploy.UpdateTarget(r.Context(), actor(r), id, version, ti)
	if errors.Is(err, inventory.ErrConflict) {
		if now, gerr := a.Deploy.GetTarget(r.Context(), id); gerr == nil && now.Version != version {
			return staleTarget(now.Version, version)
		}
	}
	if err != nil {
		return err
	}
	return writeTarget(w, http.StatusOK, v)
}

func staleTarget(have, sent int64) error {
	return &statusError{status: http.StatusPreconditionFailed,
		err: fmt.Errorf("api: the target changed meanwhile (version %d, If-Match %d): reload it and try again", have, sent)}
}

// targetVersion reads If-Match: "VERSION".
func targetVersion(r *http.Request) (int64, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, &statusError{status: http.StatusPreconditionRequired, field: "If-Match",
			err: errors.New(`api: send If-Match: "VERSION" with the version the target was read at`)}
	}
	v, err := strconv.Unquote(h)
	n, perr := strconv.ParseInt(v, 10, 64)
	if err != nil || perr != nil {
		return 0, badRequest("If-Match", `If-Match %s: want a target ETag, "VERSION"`, h)
	}
	return n, nil
}

func (a *API) deleteTarget(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.Deploy.DeleteTarget(r.Context(), actor(r), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decodeTarget reads the JSON body as a target input for the service.
func decodeTarget(r *http.Request) (deploy.TargetInput, error) {
	var in client.TargetInput
	if err := decode(r, &in); err != nil {
		return deploy.TargetInput{}, err
	}
	return targetIn(&in)
}

// targetIn maps the wire input to the service's.
func targetIn(in *client.TargetInput) (deploy.TargetInput, error) {
	maxSeconds := int(deploy.MaxReloadTimeout / time.Second)
	if in.ReloadTimeoutSeconds < 0 || in.ReloadTimeoutSeconds > maxSeconds {
		return deploy.TargetInput{}, inventory.Invalid("reload_timeout_seconds",
			"the timeout must be between 0 (60 seconds) and %d seconds", maxSeconds)
	}
	out := deploy.TargetInput{Name: in.Name, Preset: in.Preset, Method: inventory.TargetMethod(in.Method),
		Directory: in.Directory, Owner: in.Owner, TestCommand: in.TestCommand, ReloadCommand: in.ReloadCommand,
		ReloadTimeout: time.Duration(in.ReloadTimeoutSeconds) * time.Second, AgentID: in.AgentID,
		Check: inventory.CheckSpec(in.Check), AdminEmail: in.AdminEmail, RollbackOnFailure: in.RollbackOnFailure,
		SSHPassword: in.SSHPassword, SSHPrivateKey: in.SSHPrivateKey, KeystorePassword: in.KeystorePassword,
		Notes: in.Notes}
	if in.SSH != nil {
		s := inventory.SSHAccess(*in.SSH)
		out.SSH = &s
	}
	return out, nil
}

func targetOut(v *deploy.TargetView) client.Target {
	out := client.Target{ID: v.ID, Name: v.Name, Preset: v.Preset, Method: string(v.Method), Directory: v.Directory,
		Owner: v.Owner, TestCommand: v.TestCommand, ReloadCommand: v.ReloadCommand,
		ReloadTimeoutSeconds: int(v.ReloadTimeout / time.Second), AgentID: v.AgentID, Agent: v.Agent,
		Check: client.CheckSpec(v.Check), AdminEmail: v.AdminEmail, RollbackOnFailure: v.RollbackOnFailure,
		HasSSHPassword: v.HasSSHPassword, HasSSHKey: v.HasSSHKey, HasKeystorePassword: v.HasKeystorePassword,
		Notes: v.Notes, Version: v.Version, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
	if v.SSH != nil {
		s := client.SSHAccess(*v.SSH)
		out.SSH = &s
	}
	return out
}

func (a *API) listPresets(w http.ResponseWriter, r *http.Request) error {
	list, err := a.Deploy.Presets(r.Context())
	if err != nil {
		return err
	}
	out := client.PresetList{Items: make([]client.Preset, len(list))}
	for i, pr := range list {
		out.Items[i] = presetOut(pr)
	}
	return ok(w, out)
}

func presetOut(pr engine.Preset) client.Preset {
	out := client.Preset{Name: pr.Name(), Files: make([]client.PresetFile, len(pr.Layout.Files)),
		TestCommand: pr.TestCommand, ReloadCommand: pr.ReloadCommand, Instructions: pr.Instructions,
		Builtin: pr.Builtin, NeedsPassword: pr.NeedsPassword()}
	for i, f := range pr.Layout.Files {
		out.Files[i] = client.PresetFile{Path: f.Path, Content: string(f.Content), Encoding: string(f.Encoding)}
		if f.Mode != 0 {
			out.Files[i].Mode = fmt.Sprintf("%04o", uint32(f.Mode.Perm()))
		}
	}
	return out
}

// putPreset stores a user layout; the name is the path's (a body naming
// another is refused).
func (a *API) putPreset(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var in client.Preset
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Name != "" && in.Name != name {
		return inventory.Invalid("name", "the body names %q but the path %q", in.Name, name)
	}
	files, err := json.Marshal(in.Files)
	if err != nil {
		return err
	}
	pr, err := a.Deploy.PutLayout(r.Context(), actor(r), inventory.DeployLayout{Name: name, Files: files,
		TestCommand: in.TestCommand, ReloadCommand: in.ReloadCommand, Instructions: in.Instructions})
	if err != nil {
		return err
	}
	return ok(w, presetOut(pr))
}

func (a *API) deletePreset(w http.ResponseWriter, r *http.Request) error {
	if err := a.Deploy.DeleteLayout(r.Context(), actor(r), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listDeployments(w http.ResponseWriter, r *http.Request) error {
	f, err := deploymentFilter(r)
	if err != nil {
		return err
	}
	p, err := page(r)
	if err != nil {
		return err
	}
	list, next, err := a.Deploy.ListDeployments(r.Context(), f, p)
	if err != nil {
		return err
	}
	out := client.DeploymentList{Items: make([]client.Deployment, len(list)), Next: next}
	for i := range list {
		out.Items[i] = deploymentOut(&list[i])
	}
	return ok(w, out)
}

func deploymentFilter(r *http.Request) (f inventory.DeploymentFilter, err error) {
	if f.States, err = deploymentStates(r.URL.Query().Get("state")); err != nil {
		return f, err
	}
	for _, q := range []struct {
		name string
		dst  *int64
	}{{"certificate_id", &f.CertificateID}, {"target_id", &f.TargetID}, {"definition_id", &f.DefinitionID}} {
		if *q.dst, err = queryID(r, q.name); err != nil {
			return f, err
		}
	}
	switch o := r.URL.Query().Get("order"); o {
	case "", "oldest":
	case "newest":
		f.Newest = true
	default:
		return f, badRequest("order", "order %q: want oldest or newest", o)
	}
	latest, err := queryBool(r, "latest")
	if err != nil {
		return f, err
	}
	f.Latest = latest != nil && *latest
	failed, err := queryBool(r, "check_failed")
	f.CheckFailed = failed != nil && *failed
	return f, err
}

// deploymentStates reads "ongoing" or a comma-separated list of states.
func deploymentStates(s string) ([]inventory.DeploymentState, error) {
	if s == "" {
		return nil, nil
	}
	if s == "ongoing" {
		return []inventory.DeploymentState{inventory.DeployPrepared, inventory.DeployInstallRequested,
			inventory.DeployInstalled}, nil
	}
	var out []inventory.DeploymentState
	for _, v := range strings.Split(s, ",") {
		st := inventory.DeploymentState(strings.TrimSpace(v))
		if !st.Valid() {
			return nil, badRequest("state", "state %q: want ongoing or prepared, install_requested, installed, "+
				"confirmed, failed, rolled_back", v)
		}
		out = append(out, st)
	}
	return out, nil
}

func (a *API) startDeployment(w http.ResponseWriter, r *http.Request) error {
	var in client.DeploymentStart
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.CertificateID <= 0 {
		return inventory.Invalid("certificate_id", "give the ID of a stored certificate")
	}
	if in.TargetID <= 0 {
		return inventory.Invalid("target_id", "give the ID of a target")
	}
	v, created, err := a.Deploy.Start(r.Context(), actor(r), in.CertificateID, in.TargetID)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	return writeJSON(w, code, deploymentOut(v))
}

func (a *API) getDeployment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := a.Deploy.GetDeployment(r.Context(), id)
	return writeDeployment(w, v, err)
}

func writeDeployment(w http.ResponseWriter, v *deploy.DeploymentView, err error) error {
	if err != nil {
		return err
	}
	return ok(w, deploymentOut(v))
}

// deploymentActionFunc is a method of the service acting on one
// deployment without input (Install, Check, Rollback).
type deploymentActionFunc = func(s *deploy.Service, ctx context.Context, actor string, id int64) (*deploy.DeploymentView, error)

// deploymentAction serves an action on the path's deployment that takes
// no input.
func (a *API) deploymentAction(act deploymentActionFunc) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		v, err := act(a.Deploy, r.Context(), actor(r), id)
		return writeDeployment(w, v, err)
	}
}

func (a *API) continueDeployment(w http.ResponseWriter, r *http.Request) error {
	var in client.ContinueInput
	id, err := pathIDAndBody(r, &in)
	if err != nil {
		return err
	}
	v, err := a.Deploy.Continue(r.Context(), actor(r), id, in.Reason)
	return writeDeployment(w, v, err)
}

// pathIDAndBody reads the path's {id}, then the JSON body into in.
func pathIDAndBody(r *http.Request, in any) (int64, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, err
	}
	return id, decode(r, in)
}

func (a *API) deploymentPackage(w http.ResponseWriter, r *http.Request) error {
	var in client.PackageInput
	id, err := pathIDAndBody(r, &in)
	if err != nil {
		return err
	}
	data, name, err := a.Deploy.Package(r.Context(), actor(r), id, in.Password)
	if err != nil {
		return err
	}
	return writeFile(w, "application/octet-stream", name, data)
}

func (a *API) deploymentZip(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	data, name, err := a.Deploy.Conventional(r.Context(), actor(r), id)
	if err != nil {
		return err
	}
	return writeFile(w, "application/zip", name, data)
}

// requestInstall e-mails the install request; a failed delivery is 502
// with the mail server's reason.
func (a *API) requestInstall(w http.ResponseWriter, r *http.Request) error {
	var in client.InstallRequest
	id, err := pathIDAndBody(r, &in)
	if err != nil {
		return err
	}
	v, err := a.Deploy.RequestInstall(r.Context(), actor(r), id, in.To, in.Password, in.Message)
	if errors.Is(err, mail.ErrFailed) {
		return &statusError{status: http.StatusBadGateway, err: err}
	}
	return writeDeployment(w, v, err)
}

func (a *API) uploadCheckReport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return inventory.Invalid("report", "the report is empty")
	}
	v, err := a.Deploy.AcceptReport(r.Context(), actor(r), id, data)
	return writeDeployment(w, v, err)
}

// deploymentCountsOut is c on the wire.
func deploymentCountsOut(c *deploy.DeploymentCounts) *client.DeploymentCounts {
	return &client.DeploymentCounts{Total: c.Total, Confirmed: c.Confirmed, Failed: c.Failed, Ongoing: c.Ongoing, More: c.More}
}

func deploymentOut(v *deploy.DeploymentView) client.Deployment {
	out := client.Deployment{ID: v.ID, CertificateID: v.CertificateID, Certificate: v.Certificate,
		TargetID: v.TargetID, Target: v.Target, Method: string(v.Method), DefinitionID: v.DefinitionID,
		State: string(v.State), Attempts: v.Attempts, Backup: v.Backup, Unchecked: v.Unchecked,
		Version: v.Version, CreatedBy: v.CreatedBy, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
	if v.LastCheck != nil {
		c := client.CheckResult(*v.LastCheck)
		out.LastCheck = &c
	}
	for _, s := range v.Steps {
		out.Steps = append(out.Steps, client.DeploymentStep{Time: s.Time, Actor: s.Actor, Action: s.Action,
			Detail: s.Detail, Output: s.Output})
	}
	return out
}
