package store

// PLACEHOLDER: replaced by the real implementation.

import (
	"context"
	"errors"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

var errTODO = errors.New("store: deploy: not implemented")

func (s *db) PutTarget(ctx context.Context, t *inventory.Target) error           { return errTODO }
func (s *db) UpdateTarget(ctx context.Context, t *inventory.Target) error        { return errTODO }
func (s *db) GetTarget(ctx context.Context, id int64) (*inventory.Target, error) { return nil, errTODO }
func (s *db) TargetByName(ctx context.Context, name string) (*inventory.Target, error) {
	return nil, errTODO
}
func (s *db) ListTargets(ctx context.Context, p inventory.Page) ([]inventory.Target, string, error) {
	return nil, "", errTODO
}
func (s *db) DeleteTarget(ctx context.Context, id int64) error { return errTODO }
func (s *db) RewrapTargetSecrets(ctx context.Context, rewrap func(sealed []byte) ([]byte, error)) (int, error) {
	return 0, errTODO
}
func (s *db) PutDeployment(ctx context.Context, d *inventory.Deployment, steps ...inventory.DeploymentStep) error {
	return errTODO
}
func (s *db) UpdateDeployment(ctx context.Context, d *inventory.Deployment, steps ...inventory.DeploymentStep) error {
	return errTODO
}
func (s *db) GetDeployment(ctx context.Context, id int64) (*inventory.Deployment, error) {
	return nil, errTODO
}
func (s *db) DeploymentFor(ctx context.Context, certificateID, targetID int64) (*inventory.Deployment, error) {
	return nil, errTODO
}
func (s *db) ListDeployments(ctx context.Context, f inventory.DeploymentFilter, p inventory.Page) (*inventory.DeploymentPage, error) {
	return nil, errTODO
}
func (s *db) DeploymentSteps(ctx context.Context, id int64) ([]inventory.DeploymentStep, error) {
	return nil, errTODO
}
func (s *db) PutDeployLayout(ctx context.Context, l *inventory.DeployLayout) error    { return errTODO }
func (s *db) UpdateDeployLayout(ctx context.Context, l *inventory.DeployLayout) error { return errTODO }
func (s *db) DeployLayoutByName(ctx context.Context, name string) (*inventory.DeployLayout, error) {
	return nil, errTODO
}
func (s *db) ListDeployLayouts(ctx context.Context) ([]inventory.DeployLayout, error) {
	return nil, errTODO
}
func (s *db) DeleteDeployLayout(ctx context.Context, name string) error        { return errTODO }
func (s *db) PutAgentToken(ctx context.Context, t *inventory.AgentToken) error { return errTODO }
func (s *db) EnrollAgent(ctx context.Context, tokenHash string, a *inventory.Agent) error {
	return errTODO
}
func (s *db) GetAgent(ctx context.Context, id int64) (*inventory.Agent, error) { return nil, errTODO }
func (s *db) AgentByCertificate(ctx context.Context, sha256 string) (*inventory.Agent, error) {
	return nil, errTODO
}
func (s *db) AgentByName(ctx context.Context, name string) (*inventory.Agent, error) {
	return nil, errTODO
}
func (s *db) ListAgents(ctx context.Context) ([]inventory.Agent, error) { return nil, errTODO }
func (s *db) TouchAgent(ctx context.Context, id int64, at time.Time, remoteAddr string) error {
	return errTODO
}
func (s *db) SetAgentDisabled(ctx context.Context, id int64, disabled bool) error { return errTODO }

var _ = time.Time{}
