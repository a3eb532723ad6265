package acquisition

import (
	"context"
	"fmt"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Get returns process id with its history.
func (s *Service) Get(ctx context.Context, id int64) (*Process, error) {
	a, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.process(ctx, a)
}

// List returns one page of the processes f selects.
func (s *Service) List(ctx context.Context, f inventory.AcquisitionFilter, p inventory.Page) (*inventory.AcquisitionPage, error) {
	if err := checkStates(f.States); err != nil {
		return nil, err
	}
	return s.st.ListAcquisitions(ctx, f, p)
}

func checkStates(states []inventory.AcquisitionState) error {
	for _, st := range states {
		if !st.Valid() {
			return inventory.Invalid("state", "unknown state %q", st)
		}
	}
	return nil
}

// CountByState counts the processes f selects by state; states without
// a process are absent. An unknown state in f gives an
// inventory.FieldError.
func (s *Service) CountByState(ctx context.Context, f inventory.AcquisitionFilter) (map[inventory.AcquisitionState]int, error) {
	if err := checkStates(f.States); err != nil {
		return nil, err
	}
	return s.st.CountAcquisitionsByState(ctx, f)
}

// CountAttention returns how many definitions Attention lists with days.
func (s *Service) CountAttention(ctx context.Context, days int) (int, error) {
	before, err := s.attentionBound(days)
	if err != nil {
		return 0, err
	}
	return s.st.CountExpiringWithoutAcquisition(ctx, before)
}

// Attention returns the definitions whose current certificate expires
// within days (DefaultAttentionDays when 0) or is revoked, and that have
// no open process.
func (s *Service) Attention(ctx context.Context, days int, p inventory.Page) (*inventory.DefinitionPage, error) {
	before, err := s.attentionBound(days)
	if err != nil {
		return nil, err
	}
	return s.st.ExpiringWithoutAcquisition(ctx, before, p)
}

// attentionBound is the expiry bound of Attention with days.
func (s *Service) attentionBound(days int) (time.Time, error) {
	switch {
	case days == 0:
		days = DefaultAttentionDays
	case days < 0 || days > 3650:
		return time.Time{}, inventory.Invalid("days", "%d: want 1 to 3650", days)
	}
	return s.cfg.Now().Add(time.Duration(days) * 24 * time.Hour), nil
}

// load reads process id.
func (s *Service) load(ctx context.Context, id int64) (*inventory.Acquisition, error) {
	a, err := s.st.GetAcquisition(ctx, id)
	if err != nil {
		return nil, notFound(err, "no process %d", id)
	}
	return a, nil
}

// process gathers what a refers to.
func (s *Service) process(ctx context.Context, a *inventory.Acquisition) (*Process, error) {
	p := &Process{Acquisition: *a}
	var err error
	if p.Definition, err = s.st.GetDefinition(ctx, a.DefinitionID); err != nil {
		return nil, fmt.Errorf("acquisition: process %d: definition: %w", a.ID, err)
	}
	if p.Issuer, err = s.st.GetIssuer(ctx, a.IssuerID); err != nil {
		return nil, fmt.Errorf("acquisition: process %d: issuer: %w", a.ID, err)
	}
	if a.ProductID != 0 {
		if p.Product, err = s.st.GetProduct(ctx, a.ProductID); err != nil {
			return nil, fmt.Errorf("acquisition: process %d: product: %w", a.ID, err)
		}
	}
	if a.CertificateID != 0 {
		if p.Certificate, err = s.st.GetCertificate(ctx, a.CertificateID); err != nil {
			return nil, fmt.Errorf("acquisition: process %d: certificate: %w", a.ID, err)
		}
	}
	if p.Steps, err = s.st.AcquisitionSteps(ctx, a.ID); err != nil {
		return nil, fmt.Errorf("acquisition: process %d: steps: %w", a.ID, err)
	}
	return p, nil
}

// step makes a step of the current time.
func (s *Service) step(actor, action, detail string) inventory.AcquisitionStep {
	return inventory.AcquisitionStep{Time: s.now(), Actor: actor, Action: action, Detail: detail}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Second) }

// event is the audit event of a change to a process.
type event struct{ actor, action, summary string }

// updateAudited stores a's changes with steps and the audit event e, in
// one transaction.
func (s *Service) updateAudited(ctx context.Context, a *inventory.Acquisition, e event, steps ...inventory.AcquisitionStep) error {
	return s.record(ctx, a, func(tx inventory.Store) error { return tx.UpdateAcquisition(ctx, a, steps...) }, e)
}

// completeAudited stores a's changes with steps, completed, makes its
// certificate the definition's current one, and stores the audit event
// e, all in one transaction.
func (s *Service) completeAudited(ctx context.Context, a *inventory.Acquisition, e event, steps ...inventory.AcquisitionStep) error {
	a.State = inventory.StateCompleted
	return s.record(ctx, a, func(tx inventory.Store) error { return tx.SwitchCurrent(ctx, a, steps...) }, e)
}

// record runs write, which stores a's changes, and appends events, in
// one transaction: a process never changes unaudited.
func (s *Service) record(ctx context.Context, a *inventory.Acquisition, write func(tx inventory.Store) error, events ...event) error {
	return changed(s.st.InTx(ctx, func(tx inventory.Store) error {
		if err := write(tx); err != nil {
			return err
		}
		for _, e := range events {
			if err := s.auditIn(ctx, tx, e.actor, e.action, a.ID, e.summary); err != nil {
				return err
			}
		}
		return nil
	}), a)
}

// auditIn records an event about process id through st (the store, or
// the transaction of the change).
func (s *Service) auditIn(ctx context.Context, st auditor, actor, action string, id int64, summary string) error {
	return st.AppendAudit(ctx, &inventory.AuditEvent{Time: s.now(), Actor: actor, Action: action,
		Object: object(id), Summary: summary})
}

// auditor appends audit events: the store, or a transaction of it.
type auditor interface {
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
}

func object(id int64) string { return inventory.ObjectRef(inventory.KindAcquisition, id) }
