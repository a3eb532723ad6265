// Package definitions manages certificate definitions, the descriptions
// of certificates that should exist (subject, SANs, key type, issuer
// requirements, requester, target servers, renewal policy), and the
// document folder kept with each. It validates every field, refuses
// stale updates, and writes each change to the audit trail (never a
// document's content).
package definitions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Store is what the service needs from the inventory.
type Store interface {
	inventory.DefinitionStore
	GetCertificate(ctx context.Context, id int64) (*inventory.Certificate, error)
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
	// InTx writes a change and its audit event in one transaction.
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// auditor appends audit events: the store, or a transaction of it.
type auditor interface {
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
}

// DefaultKeyType is used when a definition names no key type.
const DefaultKeyType = "ecdsa-p256"

// KeyTypes lists the key type names a definition may use.
var KeyTypes = []string{"ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"}

// Service manages definitions and their documents. It is safe for
// concurrent use.
type Service struct {
	store Store
	now   func() time.Time
}

// New returns a service over st. A nil now means time.Now.
func New(st Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, now: now}
}

// Create validates d and stores it as a new definition, setting its ID and
// Version.
func (s *Service) Create(ctx context.Context, actor string, d *inventory.Definition) error {
	return s.create(ctx, actor, "definition.create", d, summary(d))
}

func (s *Service) create(ctx context.Context, actor, action string, d *inventory.Definition, what string) error {
	if err := normalize(d); err != nil {
		return err
	}
	now := s.now().UTC()
	d.CreatedAt, d.UpdatedAt = now, now
	err := s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutDefinition(ctx, d); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, action, d, what)
	})
	if err != nil {
		d.ID, d.Version = 0, 0 // rolled back
	}
	if errors.Is(err, inventory.ErrConflict) {
		return fmt.Errorf("definitions: definition %q exists: %w", d.Name, inventory.ErrConflict)
	}
	return err
}

// Get returns the definition named name.
func (s *Service) Get(ctx context.Context, name string) (*inventory.Definition, error) {
	d, err := s.store.DefinitionByName(ctx, name)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, fmt.Errorf("definitions: no definition %q: %w", name, inventory.ErrNotFound)
	}
	return d, err
}

// ByID returns definition id. An unknown definition gives
// inventory.ErrNotFound.
func (s *Service) ByID(ctx context.Context, id int64) (*inventory.Definition, error) {
	return s.store.GetDefinition(ctx, id)
}

// List returns one page of the definitions f selects.
func (s *Service) List(ctx context.Context, f inventory.DefinitionFilter, p inventory.Page) (*inventory.DefinitionPage, error) {
	return s.store.ListDefinitions(ctx, f, p)
}

// Count returns how many definitions f selects.
func (s *Service) Count(ctx context.Context, f inventory.DefinitionFilter) (int, error) {
	return s.store.CountDefinitions(ctx, f)
}

// Update validates d and writes it over the stored definition with the
// same ID, provided nobody changed it since d.Version was read; it then
// increments d.Version. A stale version gives a *StaleError, which says
// to reload.
func (s *Service) Update(ctx context.Context, actor string, d *inventory.Definition) error {
	if err := normalize(d); err != nil {
		return err
	}
	read := d.Version
	d.UpdatedAt = s.now().UTC()
	err := s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.UpdateDefinition(ctx, d); err != nil {
			return updateFailed{err}
		}
		return s.audit(ctx, tx, actor, "definition.update", d, fmt.Sprintf("version %d; %s", d.Version, summary(d)))
	})
	if u := (updateFailed{}); errors.As(err, &u) {
		d.Version = read
		return s.updateError(ctx, d, read, u.err)
	}
	if err != nil {
		d.Version = read
	}
	return err
}

// StaleError is Update's refusal of a definition changed since it was
// read. It wraps inventory.ErrConflict.
type StaleError struct {
	Name string
	// Version is the stored version; Read the one the update was made
	// from.
	Version, Read int64
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("definitions: definition %q was changed meanwhile (version %d, yours %d): reload it and try again: %v",
		e.Name, e.Version, e.Read, inventory.ErrConflict)
}

// Unwrap returns inventory.ErrConflict.
func (e *StaleError) Unwrap() error { return inventory.ErrConflict }

// updateFailed marks the error of UpdateDefinition itself, as opposed to
// its audit event's.
type updateFailed struct{ err error }

func (e updateFailed) Error() string { return e.err.Error() }
func (e updateFailed) Unwrap() error { return e.err }

// updateError explains why UpdateDefinition refused d.
func (s *Service) updateError(ctx context.Context, d *inventory.Definition, read int64, err error) error {
	switch {
	case errors.Is(err, inventory.ErrNotFound):
		return fmt.Errorf("definitions: no definition with ID %d: %w", d.ID, inventory.ErrNotFound)
	case !errors.Is(err, inventory.ErrConflict):
		return err
	}
	if cur, gerr := s.store.GetDefinition(ctx, d.ID); gerr == nil && cur.Version != read {
		return &StaleError{Name: cur.Name, Version: cur.Version, Read: read}
	}
	return fmt.Errorf("definitions: definition %q exists: %w", d.Name, inventory.ErrConflict)
}

// Clone stores a copy of the definition named name as newName, without its
// current certificate or documents. change, when not nil, edits the copy
// before it is checked and stored (for instance to point a production
// definition at the private CA for a test system).
func (s *Service) Clone(ctx context.Context, actor, name, newName string, change func(*inventory.Definition)) (*inventory.Definition, error) {
	src, err := s.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	d := *src
	d.ID, d.Version, d.CurrentCertificateID, d.Name = 0, 0, 0, newName
	d.SANs, d.Targets, d.Labels = slices.Clone(src.SANs), slices.Clone(src.Targets), slices.Clone(src.Labels)
	if change != nil {
		change(&d)
	}
	if err := s.create(ctx, actor, "definition.clone", &d, "from "+name+"; "+summary(&d)); err != nil {
		return nil, err
	}
	return &d, nil
}

// audit records an action on d; the summary starts with its name.
func (s *Service) audit(ctx context.Context, st auditor, actor, action string, d *inventory.Definition, what string) error {
	return st.AppendAudit(ctx, &inventory.AuditEvent{Time: s.now().UTC(), Actor: actor, Action: action,
		Object: inventory.ObjectRef(inventory.KindDefinition, d.ID), Summary: inventory.NamedSummary(d.Name, what)})
}

// summary describes d in a few words for the audit trail.
func summary(d *inventory.Definition) string {
	s := fmt.Sprintf("cn %q, %d SANs, key %s", d.Subject.CommonName, len(d.SANs), d.KeyType)
	if d.Requirements.Issuer != "" {
		s += ", issuer " + d.Requirements.Issuer
	}
	return s
}
