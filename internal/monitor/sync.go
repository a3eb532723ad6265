package monitor

import (
	"context"
	"errors"
	"slices"

	"github.com/certkeeper/certkeeper/internal/deploy/check"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// syncActor is the audit actor of the changes Sync makes.
const syncActor = "system:monitor"

// Sync makes the deployment endpoints follow the confirmed deployments:
// one per confirmed deployment whose target has a server name for check
// (its host, port, SNI, client certificate and STARTTLS protocol), added
// due at once,
// updated when the target's check spec changed, removed when the
// deployment is no longer confirmed. Every change is audited.
func (s *Service) Sync(ctx context.Context) error {
	want, err := s.deploymentEndpoints(ctx)
	if err != nil {
		return err
	}
	all, err := s.store.AllEndpoints(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range all {
		if e.Source != inventory.EndpointDeployment {
			continue
		}
		w, ok := want[e.SourceID]
		delete(want, e.SourceID)
		switch {
		case !ok:
			errs = append(errs, s.syncRemove(ctx, &e))
		case !sameSpec(&e, w):
			errs = append(errs, s.syncUpdate(ctx, &e, w))
		}
	}
	for _, id := range sortedKeys(want) {
		errs = append(errs, s.syncAdd(ctx, want[id]))
	}
	return errors.Join(errs...)
}

// deploymentEndpoints returns the endpoint each confirmed deployment
// should have, by deployment ID.
func (s *Service) deploymentEndpoints(ctx context.Context) (map[int64]*inventory.Endpoint, error) {
	out := map[int64]*inventory.Endpoint{}
	targets := map[int64]*inventory.Target{}
	f := inventory.DeploymentFilter{States: []inventory.DeploymentState{inventory.DeployConfirmed}}
	p := inventory.Page{Limit: inventory.MaxPageSize}
	for {
		page, err := s.store.ListDeployments(ctx, f, p)
		if err != nil {
			return nil, err
		}
		for _, d := range page.Items {
			t, err := s.target(ctx, targets, d.TargetID)
			if err != nil {
				return nil, err
			}
			if t.Check.Host != "" {
				out[d.ID] = &inventory.Endpoint{Address: check.Address(t.Check), ServerName: t.Check.SNI,
					StartTLS: t.Check.StartTLS, ClientCertificateID: t.Check.ClientCertificateID,
					Source: inventory.EndpointDeployment, SourceID: d.ID}
			}
		}
		if page.Next == "" {
			return out, nil
		}
		p.After = page.Next
	}
}

func (s *Service) target(ctx context.Context, cache map[int64]*inventory.Target, id int64) (*inventory.Target, error) {
	if t, ok := cache[id]; ok {
		return t, nil
	}
	t, err := s.store.GetTarget(ctx, id)
	if err != nil {
		return nil, err
	}
	cache[id] = t
	return t, nil
}

func sameSpec(e, w *inventory.Endpoint) bool {
	return e.Address == w.Address && e.ServerName == w.ServerName && e.StartTLS == w.StartTLS &&
		e.ClientCertificateID == w.ClientCertificateID
}

func sortedKeys(m map[int64]*inventory.Endpoint) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (s *Service) syncAdd(ctx context.Context, e *inventory.Endpoint) error {
	e.CreatedAt = s.c.Now().UTC()
	e.NextCheckAt = e.CreatedAt
	return s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutEndpoint(ctx, e); err != nil {
			return err
		}
		return s.audit(ctx, tx, syncActor, "endpoint.add", e.ID, describe(e))
	})
}

func (s *Service) syncUpdate(ctx context.Context, e, w *inventory.Endpoint) error {
	e.Address, e.ServerName, e.StartTLS, e.ClientCertificateID = w.Address, w.ServerName, w.StartTLS, w.ClientCertificateID
	e.NextCheckAt = s.c.Now().UTC()
	return s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.UpdateEndpoint(ctx, e); err != nil {
			return err
		}
		return s.audit(ctx, tx, syncActor, "endpoint.update", e.ID, describe(e))
	})
}

func (s *Service) syncRemove(ctx context.Context, e *inventory.Endpoint) error {
	return s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.DeleteEndpoint(ctx, e.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, syncActor, "endpoint.remove", e.ID, describe(e)+": the deployment is no longer confirmed")
	})
}
