package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// AgentJobs returns the install-requested deployments of the targets of
// agent agentID with their jobs. A job holds the plan with the key files:
// it travels only over the agent's mutual TLS connection. The first fetch
// after a request is recorded as step "agent_fetched" and audited.
func (s *Service) AgentJobs(ctx context.Context, agentID int64) ([]engine.AgentJob, error) {
	f := inventory.DeploymentFilter{AgentID: agentID, States: []inventory.DeploymentState{inventory.DeployInstallRequested}}
	out := []engine.AgentJob{}
	for p := (inventory.Page{Limit: inventory.MaxPageSize}); ; {
		page, err := s.store.ListDeployments(ctx, f, p)
		if err != nil {
			return nil, err
		}
		for i := range page.Items {
			j, err := s.agentJob(ctx, agentID, page.Items[i].ID)
			if err != nil {
				return nil, err
			}
			if j != nil {
				out = append(out, *j)
			}
		}
		if page.Next == "" {
			return out, nil
		}
		p.After = page.Next
	}
}

// agentJob builds the job of deployment id for the agent; nil when the
// process no longer waits for it.
func (s *Service) agentJob(ctx context.Context, agentID, id int64) (*engine.AgentJob, error) {
	unlock := s.locks.lock(id)
	defer unlock()
	p, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.d.State != inventory.DeployInstallRequested || p.t.Method != inventory.MethodAgent || p.t.AgentID != agentID {
		return nil, nil
	}
	job, err := s.job(ctx, p.t, p.cert)
	if err != nil {
		return nil, err
	}
	if err := s.noteFetched(ctx, agentID, p); err != nil {
		return nil, err
	}
	return &engine.AgentJob{DeploymentID: id, Target: p.t.Name, Job: job}, nil
}

// noteFetched records the agent's first fetch since the latest request.
func (s *Service) noteFetched(ctx context.Context, agentID int64, p *deployProcess) error {
	steps, err := s.store.DeploymentSteps(ctx, p.d.ID)
	if err != nil {
		return err
	}
	for i := len(steps) - 1; i >= 0 && steps[i].Action != "install_requested"; i-- {
		if steps[i].Action == "agent_fetched" {
			return nil
		}
	}
	actor := s.agentActor(ctx, agentID)
	detail := fmt.Sprintf("the agent fetched the job with the private key of certificate %s", certDisplayName(p.cert))
	return s.updateAudited(ctx, actor, "deployment.agent_fetch", deploymentObject(p.d.ID), p.t.Name+": "+detail, p.d, s.step(actor, "agent_fetched", detail, ""))
}

// agentActor names an agent in steps and the audit trail.
func (s *Service) agentActor(ctx context.Context, agentID int64) string {
	if a, err := s.store.GetAgent(ctx, agentID); err == nil {
		return "agent:" + a.Name
	}
	return fmt.Sprintf("agent:%d", agentID)
}

// AgentResult applies what agent agentID reports it did for deployment
// deploymentID, as Install does (installed, confirmed or failed, the
// commands' output in the steps, the check's source "agent"). A
// deployment that is not of that agent's targets is refused as not
// found; one that does not wait for an install as a wrong state.
func (s *Service) AgentResult(ctx context.Context, agentID, deploymentID int64, o *engine.Outcome) (*inventory.Deployment, error) {
	if o == nil {
		return nil, inventory.Invalid("outcome", "no outcome")
	}
	unlock := s.locks.lock(deploymentID)
	defer unlock()
	p, err := s.load(ctx, deploymentID)
	if err != nil && !errors.Is(err, inventory.ErrNotFound) {
		return nil, err
	}
	if err != nil || p.t.Method != inventory.MethodAgent || p.t.AgentID != agentID {
		return nil, fmt.Errorf("deploy: no deployment %d for agent %d: %w", deploymentID, agentID, inventory.ErrNotFound)
	}
	if p.d.State != inventory.DeployInstallRequested {
		return nil, fmt.Errorf("deploy: deployment %d does not wait for an install (state %s): %w",
			deploymentID, p.d.State, inventory.ErrState)
	}
	if o.Check != nil {
		c := *o.Check
		c.Source = "agent"
		if !strings.EqualFold(c.ExpectedSHA256, p.cert.SHA256) && c.Passed {
			c.Passed = false
			c.Problems = append(c.Problems, "the agent checked for another certificate than this deployment's")
		}
		o = &engine.Outcome{Install: o.Install, Check: &c, Installed: o.Installed, RolledBack: o.RolledBack, Error: o.Error}
	}
	actor := s.agentActor(ctx, agentID)
	p.d.Attempts++
	steps := s.applyOutcome(p.d, o, actor)
	summary := fmt.Sprintf("certificate %s to target %s (agent), attempt %d: %s", certDisplayName(p.cert), p.t.Name,
		p.d.Attempts, p.d.State)
	if o.Error != "" {
		summary += ": " + engine.OneLine(o.Error)
	}
	if err := s.updateAudited(ctx, actor, "deployment.install", deploymentObject(deploymentID), summary, p.d, steps...); err != nil {
		return nil, err
	}
	s.mailFailedCheck(ctx, p, o.Check)
	return p.d, nil
}
