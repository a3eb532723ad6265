package deploy_test

import (
	"testing"

	"github.com/certkeeper/certkeeper/internal/deploy"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// TestCountByState counts each target's newest deployment of one
// certificate by outcome: confirmed, failed (or rolled back) and ongoing.
func TestCountByState(t *testing.T) {
	f := newSvcFixture(t, deploy.ServiceOptions{})
	ctx := t.Context()
	a := f.issue(t)
	if c, err := f.svc.CountByState(ctx, a.Record.ID); err != nil || *c != (deploy.DeploymentCounts{}) {
		t.Fatalf("CountByState before any deployment = %+v, %v; want all zero", c, err)
	}
	states := []inventory.DeploymentState{inventory.DeployConfirmed, inventory.DeployFailed,
		inventory.DeployRolledBack, inventory.DeployPrepared}
	for i, s := range states {
		tg := f.target(t, deploy.TargetInput{Name: "shop" + string(rune('a'+i)), Preset: "nginx",
			Method: inventory.MethodManual, AdminEmail: "ops@example.com"})
		d, err := f.st.GetDeployment(ctx, f.start(t, a.Record.ID, tg.ID).ID)
		if err != nil {
			t.Fatal(err)
		}
		d.State = s
		if err := f.st.UpdateDeployment(ctx, d); err != nil {
			t.Fatalf("set state %s: %v", s, err)
		}
	}
	other := f.issue(t)
	f.start(t, other.Record.ID, f.target(t, deploy.TargetInput{Name: "other", Preset: "nginx",
		Method: inventory.MethodManual, AdminEmail: "ops@example.com"}).ID)
	c, err := f.svc.CountByState(ctx, a.Record.ID)
	want := deploy.DeploymentCounts{Total: 4, Confirmed: 1, Failed: 2, Ongoing: 1}
	if err != nil || *c != want {
		t.Errorf("CountByState = %+v, %v; want %+v", c, err, want)
	}
}
