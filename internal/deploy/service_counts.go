package deploy

import (
	"context"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// DeploymentCounts sums up a certificate's deployments by outcome: each
// target's newest deployment, which is what the target should serve.
type DeploymentCounts struct {
	// Total is the deployments counted; Confirmed, Failed (failed or
	// rolled back) and Ongoing (any other state) split it.
	Total, Confirmed, Failed, Ongoing int
	// More says there were more targets than CountLimit: the counts cover
	// the first CountLimit of them.
	More bool
}

// CountLimit bounds the deployments CountByState reads for one
// certificate.
const CountLimit = 200

// CountByState counts the deployments of certificate certID by outcome,
// taking each target's newest deployment only.
func (s *Service) CountByState(ctx context.Context, certID int64) (*DeploymentCounts, error) {
	page, err := s.store.ListDeployments(ctx, inventory.DeploymentFilter{CertificateID: certID, Latest: true},
		inventory.Page{Limit: CountLimit})
	if err != nil {
		return nil, err
	}
	c := &DeploymentCounts{Total: len(page.Items), More: page.Next != ""}
	for _, d := range page.Items {
		switch d.State {
		case inventory.DeployConfirmed:
			c.Confirmed++
		case inventory.DeployFailed, inventory.DeployRolledBack:
			c.Failed++
		default:
			c.Ongoing++
		}
	}
	return c, nil
}
