package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/localhost"
	"github.com/certkeeper/certkeeper/internal/deploy/sshhost"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// DeploymentView is a deployment with the names people read and, from
// GetDeployment and the actions, its steps.
type DeploymentView struct {
	inventory.Deployment
	// Target and Method are the target's name and method; Certificate is
	// the certificate's subject common name.
	Target      string
	Method      inventory.TargetMethod
	Certificate string
	Steps       []inventory.DeploymentStep
}

// maxReason bounds the reason given to continue without a check.
const maxReason = 1000

// Start prepares the process that puts certificate certID on target
// targetID, or returns the one that exists; created says which.
func (s *Service) Start(ctx context.Context, actor string, certID, targetID int64) (v *DeploymentView, created bool, err error) {
	cert, err := s.store.GetCertificate(ctx, certID)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, false, inventory.Invalid("certificate_id", "no certificate %d", certID)
	} else if err != nil {
		return nil, false, err
	}
	t, err := s.store.GetTarget(ctx, targetID)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, false, inventory.Invalid("target_id", "no target %d", targetID)
	} else if err != nil {
		return nil, false, err
	}
	if d, err := s.store.DeploymentFor(ctx, certID, targetID); err == nil {
		v, err := s.deploymentView(ctx, d, true)
		return v, false, err
	} else if !errors.Is(err, inventory.ErrNotFound) {
		return nil, false, err
	}
	defID, err := s.definitionOf(ctx, certID)
	if err != nil {
		return nil, false, err
	}
	d := &inventory.Deployment{CertificateID: certID, TargetID: targetID, DefinitionID: defID,
		State: inventory.DeployPrepared, CreatedBy: actor}
	detail := fmt.Sprintf("certificate %s (serial %s) to target %s (%s)", certDisplayName(cert), cert.Serial, t.Name, t.Method)
	err = s.audited(ctx, func(tx inventory.Store) error { return tx.PutDeployment(ctx, d, s.step(actor, "prepared", detail, "")) },
		actor, "deployment.start", func() string { return deploymentObject(d.ID) }, detail)
	if err != nil {
		if errors.Is(err, inventory.ErrConflict) { // started meanwhile
			if d, gerr := s.store.DeploymentFor(ctx, certID, targetID); gerr == nil {
				v, err := s.deploymentView(ctx, d, true)
				return v, false, err
			}
		}
		return nil, false, err
	}
	v, err = s.deploymentView(ctx, d, true)
	return v, true, err
}

// definitionOf returns the definition whose current certificate certID
// is, or 0.
func (s *Service) definitionOf(ctx context.Context, certID int64) (int64, error) {
	res, err := s.store.ListDefinitions(ctx, inventory.DefinitionFilter{CurrentCertificateID: certID}, inventory.Page{Limit: 1})
	if err != nil || len(res.Items) == 0 {
		return 0, err
	}
	return res.Items[0].ID, nil
}

// step makes a step of the current time.
func (s *Service) step(actor, action, detail, output string) inventory.DeploymentStep {
	return inventory.DeploymentStep{Time: s.now(), Actor: actor, Action: action, Detail: engine.OneLine(detail), Output: output}
}

func certDisplayName(c *inventory.Certificate) string {
	if c.CommonName != "" {
		return c.CommonName
	}
	if len(c.SANs) > 0 {
		return c.SANs[0]
	}
	return fmt.Sprintf("#%d", c.ID)
}

// deployProcess is a deployment with its target and certificate.
type deployProcess struct {
	d    *inventory.Deployment
	t    *inventory.Target
	cert *inventory.Certificate
}

// getDeployment reads deployment id; a missing one is named in the
// error.
func (s *Service) getDeployment(ctx context.Context, id int64) (*inventory.Deployment, error) {
	d, err := s.store.GetDeployment(ctx, id)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, fmt.Errorf("deploy: no deployment %d: %w", id, inventory.ErrNotFound)
	}
	return d, err
}

// load reads deployment id with its target and certificate.
func (s *Service) load(ctx context.Context, id int64) (*deployProcess, error) {
	d, err := s.getDeployment(ctx, id)
	if err != nil {
		return nil, err
	}
	p := &deployProcess{d: d}
	if p.t, err = s.store.GetTarget(ctx, d.TargetID); err != nil {
		return nil, err
	}
	if p.cert, err = s.store.GetCertificate(ctx, d.CertificateID); err != nil {
		return nil, err
	}
	return p, nil
}

// loadIdle takes the lock of deployment id when no other action holds it,
// then loads the deployment; unlock releases the lock. A held lock is
// deploymentBusy.
func (s *Service) loadIdle(ctx context.Context, id int64) (p *deployProcess, unlock func(), err error) {
	unlock, ok := s.locks.tryLock(id)
	if !ok {
		return nil, nil, deploymentBusy(id)
	}
	if p, err = s.load(ctx, id); err != nil {
		unlock()
		return nil, nil, err
	}
	return p, unlock, nil
}

// busy is the error of an action on a deployment another action holds.
func deploymentBusy(id int64) error {
	return fmt.Errorf("deploy: deployment %d is busy (an install, check or roll back is running); try again: %w",
		id, inventory.ErrState)
}

// GetDeployment returns deployment id with its steps.
func (s *Service) GetDeployment(ctx context.Context, id int64) (*DeploymentView, error) {
	d, err := s.getDeployment(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.deploymentView(ctx, d, true)
}

// ListDeployments returns one page of the deployments f selects, without
// their steps.
func (s *Service) ListDeployments(ctx context.Context, f inventory.DeploymentFilter, p inventory.Page) ([]DeploymentView, string, error) {
	page, err := s.store.ListDeployments(ctx, f, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]DeploymentView, len(page.Items))
	names := viewNames{targets: map[int64]*inventory.Target{}, certs: map[int64]string{}}
	for i := range page.Items {
		v, err := s.namedView(ctx, &page.Items[i], &names)
		if err != nil {
			return nil, "", err
		}
		out[i] = *v
	}
	return out, page.Next, nil
}

// viewNames caches target and certificate names while listing.
type viewNames struct {
	targets map[int64]*inventory.Target
	certs   map[int64]string
}

func (s *Service) deploymentView(ctx context.Context, d *inventory.Deployment, withSteps bool) (*DeploymentView, error) {
	v, err := s.namedView(ctx, d, &viewNames{targets: map[int64]*inventory.Target{}, certs: map[int64]string{}})
	if err != nil || !withSteps {
		return v, err
	}
	v.Steps, err = s.store.DeploymentSteps(ctx, d.ID)
	return v, err
}

func (s *Service) namedView(ctx context.Context, d *inventory.Deployment, n *viewNames) (*DeploymentView, error) {
	t, found := n.targets[d.TargetID]
	if !found {
		var err error
		if t, err = s.store.GetTarget(ctx, d.TargetID); err != nil {
			return nil, err
		}
		n.targets[d.TargetID] = t
	}
	name, found := n.certs[d.CertificateID]
	if !found {
		c, err := s.store.GetCertificate(ctx, d.CertificateID)
		if err != nil {
			return nil, err
		}
		name = c.CommonName
		n.certs[d.CertificateID] = name
	}
	return &DeploymentView{Deployment: *d, Target: t.Name, Method: t.Method, Certificate: name}, nil
}

// Install installs the deployment's certificate: on a directory or SSH
// target at once (write, test, reload, check, roll back on failure), on
// an agent target by queueing the job for the agent. Manual targets are
// refused. The outcome is in the returned process: a failed install is
// state failed, not an error.
func (s *Service) Install(ctx context.Context, actor string, id int64) (*DeploymentView, error) {
	p, unlock, err := s.loadIdle(ctx, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	switch p.t.Method {
	case inventory.MethodManual:
		return nil, fmt.Errorf("deploy: target %s is installed by hand: download the encrypted package "+
			"(certkeeper install) or the zip, or send an install request: %w", p.t.Name, inventory.ErrState)
	case inventory.MethodAgent:
		return s.queueForAgent(ctx, actor, p)
	}
	job, err := s.job(ctx, p.t, p.cert)
	if err != nil {
		return nil, err
	}
	if err := s.claim(ctx, p.d); err != nil {
		return nil, err
	}
	// Once claimed, the install runs to its end (bounded by the command
	// and connection timeouts) and its outcome is recorded even when the
	// caller goes away: a reload is not cut halfway.
	rctx := context.WithoutCancel(ctx)
	out := s.run(rctx, p.t, job)
	steps := s.applyOutcome(p.d, out, actor)
	summary := fmt.Sprintf("certificate %s to target %s (%s), attempt %d: %s", certDisplayName(p.cert), p.t.Name,
		p.t.Method, p.d.Attempts, p.d.State)
	if out.Error != "" {
		summary += ": " + engine.OneLine(out.Error)
	}
	if err := s.updateAudited(rctx, actor, "deployment.install", deploymentObject(id), summary, p.d, steps...); err != nil {
		return nil, err
	}
	s.mailFailedCheck(rctx, p, out.Check)
	s.o.Log.Info("deployment installed", "deployment", id, "target", p.t.Name, "state", p.d.State)
	return s.deploymentView(rctx, p.d, true)
}

// claim counts the attempt before anything runs: the store's version
// check makes a second install of the same process, by another instance,
// fail here instead of running too.
func (s *Service) claim(ctx context.Context, d *inventory.Deployment) error {
	d.Attempts++
	err := s.store.UpdateDeployment(ctx, d)
	if errors.Is(err, inventory.ErrConflict) {
		return fmt.Errorf("deploy: deployment %d changed meanwhile (another install may be running); reload it: %w",
			d.ID, err)
	}
	return err
}

// run connects to the target's host and runs the job; a host that cannot
// be reached is an outcome with its error.
func (s *Service) run(ctx context.Context, t *inventory.Target, job engine.Job) *engine.Outcome {
	h, closeHost, err := s.host(ctx, t)
	if err != nil {
		return &engine.Outcome{Error: engine.OneLine(err.Error())}
	}
	defer closeHost()
	check, err := s.checkFunc(ctx, t, "")
	if err != nil {
		return &engine.Outcome{Error: engine.OneLine(err.Error())}
	}
	return engine.RunTurns(ctx, h, job, check, s.now(), s.batches.turns(serverKey(t), h))
}

// serverKey names the server configuration a target's files belong to:
// targets with the same host and the same test and reload commands are
// sites of one server (one nginx with many server blocks), whose test
// reads every site's files. Their installs take turns, so that no test
// sees one site's new certificate beside its old key, and the installs
// queued meanwhile share one test and one reload. Targets without
// commands share nothing but their directory.
func serverKey(t *inventory.Target) string {
	host := "local"
	if t.Method == inventory.MethodSSH && t.SSH != nil {
		host = fmt.Sprintf("ssh %s@%s:%d", t.SSH.User, t.SSH.Host, t.SSH.Port)
	}
	if t.TestCommand == "" && t.ReloadCommand == "" {
		return host + "\x00dir\x00" + t.Directory
	}
	return host + "\x00cmd\x00" + t.TestCommand + "\x00" + t.ReloadCommand
}

// host returns the machine of a directory or SSH target and what closes
// it.
func (s *Service) host(ctx context.Context, t *inventory.Target) (engine.Host, func(), error) {
	switch t.Method {
	case inventory.MethodDirectory:
		return localhost.New(), func() {}, nil
	case inventory.MethodSSH:
		if t.SSH == nil {
			return nil, nil, fmt.Errorf("deploy: target %s has no SSH access", t.Name)
		}
		sec, err := s.openSecrets(t)
		if err != nil {
			return nil, nil, err
		}
		h, err := sshhost.Dial(ctx, sshhost.Config{Access: *t.SSH, Password: sec.SSHPassword,
			PrivateKey: []byte(sec.SSHPrivateKey), Timeout: s.o.SSHTimeout, IdleTimeout: s.o.SSHIdleTimeout,
			Outbound: s.o.Outbound})
		if err != nil {
			return nil, nil, err
		}
		return h, func() { h.Close() }, nil
	}
	return nil, nil, fmt.Errorf("deploy: target %s: method %s installs nothing from here: %w", t.Name, t.Method, inventory.ErrState)
}

// applyOutcome sets d's state, backup and last check from o and returns
// the steps that record it.
func (s *Service) applyOutcome(d *inventory.Deployment, o *engine.Outcome, actor string) []inventory.DeploymentStep {
	var steps []inventory.DeploymentStep
	d.Unchecked = false
	if o.Install != nil {
		d.Backup = o.Install.Backup
	}
	if o.Installed {
		steps = append(steps, s.step(actor, "installed", installedDetail(o.Install), stepOutput(o.Install)))
	} else {
		steps = append(steps, s.step(actor, "install_failed", orText(o.Error, "the install failed"), stepOutput(o.Install)))
	}
	if o.Check != nil {
		d.LastCheck = o.Check
		steps = append(steps, s.checkStep(actor, o.Check))
	}
	if o.RolledBack {
		d.Backup = ""
		steps = append(steps, s.step(actor, "rolled_back", "the files the install replaced were restored", ""))
	}
	switch {
	case o.Error != "" || !o.Installed || (o.Check != nil && !o.Check.Passed):
		d.State = inventory.DeployFailed
	case o.Check != nil:
		d.State = inventory.DeployConfirmed
	default:
		d.State = inventory.DeployInstalled
	}
	return steps
}

func installedDetail(r *engine.InstallReport) string {
	if r == nil {
		return "installed"
	}
	detail := "wrote " + strings.Join(r.Written, ", ")
	if r.Backup != "" {
		detail += "; replaced files saved in " + r.Backup
	}
	return detail
}

// commandOutput joins what the test and reload commands printed.
func stepOutput(r *engine.InstallReport) string {
	if r == nil {
		return ""
	}
	var parts []string
	if r.TestOutput != "" {
		parts = append(parts, "test command:\n"+r.TestOutput)
	}
	if r.ReloadOutput != "" {
		parts = append(parts, "reload command:\n"+r.ReloadOutput)
	}
	return strings.Join(parts, "\n")
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkStep records a check result.
func (s *Service) checkStep(actor string, r *inventory.CheckResult) inventory.DeploymentStep {
	if r.Passed {
		return s.step(actor, "checked", fmt.Sprintf("%s (%s) serves the certificate with its chain; %d days left",
			r.Address, r.Source, r.DaysLeft), "")
	}
	detail := r.Error
	if detail == "" {
		detail = strings.Join(r.Problems, "; ")
	}
	return s.step(actor, "check_failed", fmt.Sprintf("%s (%s): %s", r.Address, r.Source, orText(detail, "the check failed")), "")
}
