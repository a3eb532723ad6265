package deploy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/certkeeper/certkeeper/internal/bundle"
	"github.com/certkeeper/certkeeper/internal/deploy/check"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/kit"
)

// placeholderDirectory stands for the directory of a manual target that
// names none, in packages and zips (the presets' instructions say /PATH
// too).
const placeholderDirectory = "/PATH"

// job builds the install job of cert on t: the preset's files rendered
// with the certificate, its chain and its key, and the check.
func (s *Service) job(ctx context.Context, t *inventory.Target, cert *inventory.Certificate) (engine.Job, error) {
	if cert.KeyID == 0 {
		return engine.Job{}, fmt.Errorf("deploy: certificate %s (%d) has no private key in the inventory, so it cannot be "+
			"deployed: import its key first: %w", certDisplayName(cert), cert.ID, inventory.ErrState)
	}
	b, _, err := bundle.Load(ctx, s.store, s.sealer, cert, true)
	if err != nil {
		return engine.Job{}, err
	}
	if b.Key == nil || !b.KeyMatchesLeaf {
		return engine.Job{}, fmt.Errorf("deploy: the stored key of certificate %d does not match it: %w", cert.ID, inventory.ErrState)
	}
	pr, err := s.preset(ctx, t.Preset)
	if err != nil {
		return engine.Job{}, err
	}
	sec, err := s.openSecrets(t)
	if err != nil {
		return engine.Job{}, err
	}
	pt := *t
	if pt.Directory == "" {
		pt.Directory = placeholderDirectory
	}
	plan, err := engine.BuildPlan(pr, &pt, kit.Material{Leaf: b.Chain[0], Chain: b.Chain[1:], Key: b.Key,
		Password: sec.KeystorePassword})
	if err != nil {
		return engine.Job{}, fmt.Errorf("deploy: target %s: %w: %w", t.Name, err, inventory.ErrState)
	}
	j := engine.Job{Plan: plan, Check: t.Check, ExpectedSHA256: cert.SHA256, Chain: chainPEM(b.Chain[1:]),
		RollbackOnFailure: t.RollbackOnFailure}
	return j, s.trustJob(ctx, &j)
}

// trustJob puts the roots of the trust store into j, for the check
// wherever it runs; without ServiceOptions.Trust only the system roots
// are trusted.
func (s *Service) trustJob(ctx context.Context, j *engine.Job) error {
	if s.o.Trust == nil {
		return nil
	}
	a, err := s.o.Trust.Anchors(ctx)
	if err != nil {
		return fmt.Errorf("deploy: trust store: %w", err)
	}
	j.Roots, j.NoSystemRoots = chainPEM(a.Certificates()), !a.SystemRoots
	return nil
}

func chainPEM(certs []*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// checkFunc is the manager's deploy check for t, presenting t's client
// certificate when it names one; source "" means "probe".
func (s *Service) checkFunc(ctx context.Context, t *inventory.Target, source string) (engine.CheckFunc, error) {
	cc, err := s.clientCertificate(ctx, t.Check.ClientCertificateID)
	if err != nil {
		return nil, err
	}
	o := check.Options{Timeout: s.o.CheckTimeout, ClientCertificate: cc, Now: s.o.Now, Source: source,
		Outbound: s.o.Outbound}
	return func(ctx context.Context, spec inventory.CheckSpec, want engine.Want) *inventory.CheckResult {
		return check.Run(ctx, spec, want, o)
	}, nil
}

// clientCertificate loads certificate id with its chain and key as a TLS
// client certificate; nil for id 0.
func (s *Service) clientCertificate(ctx context.Context, id int64) (*tls.Certificate, error) {
	if id == 0 {
		return nil, nil
	}
	cert, err := s.store.GetCertificate(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("deploy: client certificate %d: %w", id, err)
	}
	b, keyID, err := bundle.Load(ctx, s.store, s.sealer, cert, true)
	if err != nil {
		return nil, err
	}
	if keyID == 0 || !b.KeyMatchesLeaf {
		return nil, fmt.Errorf("deploy: client certificate %d has no usable key in the inventory: %w", id, inventory.ErrState)
	}
	tc := &tls.Certificate{PrivateKey: b.Key, Leaf: b.Chain[0]}
	for _, c := range b.Chain {
		if !inventory.IsSelfSigned(c) || len(b.Chain) == 1 {
			tc.Certificate = append(tc.Certificate, c.Raw)
		}
	}
	return tc, nil
}

// want is what a check of cert expects: cert served with its
// intermediates, verifying to a root of the trust store.
func (s *Service) want(ctx context.Context, cert *inventory.Certificate) (engine.Want, error) {
	b, err := bundle.Certificates(ctx, s.store, cert.ID)
	if err != nil {
		return engine.Want{}, err
	}
	j := engine.Job{ExpectedSHA256: cert.SHA256, Chain: chainPEM(b.Chain[1:])}
	if err := s.trustJob(ctx, &j); err != nil {
		return engine.Want{}, err
	}
	return wantOf(b, j)
}

func wantOf(b *format.Bundle, j engine.Job) (engine.Want, error) {
	w, err := j.Want()
	if err != nil {
		return engine.Want{}, err
	}
	w.Leaf = b.Chain[0]
	return w, nil
}

// Check probes the target's server name for check: confirmed when it
// passes and the process was installed, install requested or failed;
// the state stays otherwise. The result is always recorded.
func (s *Service) Check(ctx context.Context, actor string, id int64) (*DeploymentView, error) {
	p, unlock, err := s.loadIdle(ctx, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if p.t.Check.Host == "" {
		return nil, fmt.Errorf("deploy: target %s has no server name for check: set one, or upload a report "+
			"made on site (certkeeper check --report): %w", p.t.Name, inventory.ErrState)
	}
	want, err := s.want(ctx, p.cert)
	if err != nil {
		return nil, err
	}
	check, err := s.checkFunc(ctx, p.t, "")
	if err != nil {
		return nil, err
	}
	res := check(ctx, p.t.Check, want)
	return s.recordCheck(context.WithoutCancel(ctx), actor, p, res, "deployment.check")
}

// recordCheck stores res as the last check, confirming the process when
// res passed and the process waited for it.
func (s *Service) recordCheck(ctx context.Context, actor string, p *deployProcess, res *inventory.CheckResult,
	action string) (*DeploymentView, error) {
	d := p.d
	d.LastCheck = res
	before := d.State
	if res.Passed && (d.State == inventory.DeployInstalled || d.State == inventory.DeployInstallRequested ||
		d.State == inventory.DeployFailed || action == "deployment.report") {
		d.State, d.Unchecked = inventory.DeployConfirmed, false
	}
	steps := []inventory.DeploymentStep{s.checkStep(actor, res)}
	if action == "deployment.report" {
		steps = append([]inventory.DeploymentStep{s.step(actor, "report_accepted",
			fmt.Sprintf("report made on site at %s", res.Time.UTC().Format("2006-01-02 15:04 MST")), "")}, steps...)
	}
	summary := fmt.Sprintf("%s at %s: passed %t; state %s -> %s", p.t.Name, res.Address, res.Passed, before, d.State)
	if err := s.updateAudited(ctx, actor, action, deploymentObject(d.ID), summary, d, steps...); err != nil {
		return nil, err
	}
	s.mailFailedCheck(ctx, p, res)
	return s.deploymentView(ctx, d, true)
}

// Continue confirms the process without a passing check, for the reason
// given (required); the process is marked unchecked.
func (s *Service) Continue(ctx context.Context, actor string, id int64, reason string) (*DeploymentView, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, inventory.Invalid("reason", "say why the deployment continues without a check")
	}
	if err := checkLineField("reason", reason, maxReason); err != nil {
		return nil, err
	}
	unlock := s.locks.lock(id)
	defer unlock()
	p, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.d.State == inventory.DeployConfirmed {
		return nil, fmt.Errorf("deploy: deployment %d is confirmed already: %w", id, inventory.ErrState)
	}
	before := p.d.State
	p.d.State, p.d.Unchecked = inventory.DeployConfirmed, true
	summary := fmt.Sprintf("%s: confirmed without a check (was %s): %s", p.t.Name, before, reason)
	if err := s.updateAudited(ctx, actor, "deployment.continue_unchecked", deploymentObject(id), summary, p.d, s.step(actor, "continued_unchecked", reason, "")); err != nil {
		return nil, err
	}
	return s.deploymentView(ctx, p.d, true)
}

// Rollback restores the files the last install of a directory or SSH
// target replaced, and reloads the server. A roll back that fails leaves
// the process failed, with the reason in its steps.
func (s *Service) Rollback(ctx context.Context, actor string, id int64) (*DeploymentView, error) {
	p, unlock, err := s.loadIdle(ctx, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if p.t.Method != inventory.MethodDirectory && p.t.Method != inventory.MethodSSH {
		return nil, fmt.Errorf("deploy: target %s (%s): only directory and ssh targets are rolled back from here: %w",
			p.t.Name, p.t.Method, inventory.ErrState)
	}
	if p.d.Backup == "" {
		return nil, fmt.Errorf("deploy: deployment %d has no backup to restore (the last install replaced nothing or "+
			"was rolled back already): %w", id, inventory.ErrState)
	}
	job, err := s.job(ctx, p.t, p.cert)
	if err != nil {
		return nil, err
	}
	rctx := context.WithoutCancel(ctx) // a roll back is not cut halfway either
	output, rerr := s.rollback(rctx, p.t, job.Plan, p.d.Backup)
	var step inventory.DeploymentStep
	if rerr != nil {
		p.d.State = inventory.DeployFailed
		step = s.step(actor, "rollback_failed", rerr.Error(), output)
	} else {
		step = s.step(actor, "rolled_back", "restored the files saved in "+p.d.Backup+" and reloaded", output)
		p.d.State, p.d.Backup = inventory.DeployRolledBack, ""
	}
	if err := s.updateAudited(rctx, actor, "deployment.rollback", deploymentObject(id), p.t.Name+": "+step.Detail, p.d, step); err != nil {
		return nil, err
	}
	return s.deploymentView(rctx, p.d, true)
}

func (s *Service) rollback(ctx context.Context, t *inventory.Target, plan engine.Plan, backup string) (string, error) {
	h, closeHost, err := s.host(ctx, t)
	if err != nil {
		return "", err
	}
	defer closeHost()
	var out string
	s.batches.turns(serverKey(t), h).Alone(func() { out, err = engine.Rollback(ctx, h, plan, backup) })
	return out, err
}

// queueForAgent asks the target's agent to install: install requested.
func (s *Service) queueForAgent(ctx context.Context, actor string, p *deployProcess) (*DeploymentView, error) {
	if _, err := s.job(ctx, p.t, p.cert); err != nil { // refuse now what the agent could not install
		return nil, err
	}
	if p.d.State == inventory.DeployInstallRequested {
		return s.deploymentView(ctx, p.d, true)
	}
	p.d.State, p.d.Unchecked = inventory.DeployInstallRequested, false
	detail := fmt.Sprintf("queued for agent %d of target %s", p.t.AgentID, p.t.Name)
	if err := s.updateAudited(ctx, actor, "deployment.install", deploymentObject(p.d.ID), detail, p.d, s.step(actor, "install_requested", detail, "")); err != nil {
		return nil, err
	}
	return s.deploymentView(ctx, p.d, true)
}
