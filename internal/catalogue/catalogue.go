// Package catalogue keeps the issuers certkeeper obtains certificates
// from, the products each offers and the vendor accounts used to order
// them, and selects the products that meet a certificate's requirements.
//
// certkeeper's own active CAs appear as "builtin-ca" issuers with one
// "private" product each (SyncBuiltin). Vendor account passwords are
// sealed by the master key and never returned by listings; Password opens
// one, and is audited. Every change is written to the audit trail, never
// with a password.
package catalogue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Store is what the service needs from the inventory.
type Store interface {
	GetVendorAccount(ctx context.Context, id int64) (*inventory.VendorAccount, error)
	GetIssuer(ctx context.Context, id int64) (*inventory.Issuer, error)
	GetProduct(ctx context.Context, id int64) (*inventory.Product, error)
	IssuerByName(ctx context.Context, name string) (*inventory.Issuer, error)
	ListIssuers(ctx context.Context) ([]inventory.Issuer, error)
	ListProducts(ctx context.Context, issuerID int64) ([]inventory.Product, error)
	ListVendorAccounts(ctx context.Context) ([]inventory.VendorAccount, error)
	UpdateVendorAccount(ctx context.Context, a *inventory.VendorAccount) error
	ListCAs(ctx context.Context) ([]inventory.CA, error)
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
	// InTx writes a change and its audit event in one transaction.
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// auditor appends audit events: the store, or a transaction of it.
type auditor interface {
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
}

// Sealer seals and opens secrets bound to a context; *keys.Sealer is one.
type Sealer interface {
	Seal(plaintext, context []byte) ([]byte, error)
	Open(sealed, context []byte) ([]byte, error)
}

// SystemActor is the audit actor of changes certkeeper makes by itself.
const SystemActor = "certkeeper"

// Service manages the catalogue. It is safe for concurrent use.
type Service struct {
	store  Store
	sealer Sealer
	now    func() time.Time
}

// New returns a service over st that seals passwords with sealer. A nil
// now means time.Now.
func New(st Store, sealer Sealer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, sealer: sealer, now: now}
}

// Issuers returns every issuer in ID order.
func (s *Service) Issuers(ctx context.Context) ([]inventory.Issuer, error) {
	return s.store.ListIssuers(ctx)
}

// Issuer returns the issuer called name.
func (s *Service) Issuer(ctx context.Context, name string) (*inventory.Issuer, error) {
	i, err := s.store.IssuerByName(ctx, name)
	if errors.Is(err, inventory.ErrNotFound) {
		return nil, fmt.Errorf("catalogue: no issuer %q: %w", name, inventory.ErrNotFound)
	}
	return i, err
}

// IssuerByID returns issuer id. An unknown issuer gives
// inventory.ErrNotFound.
func (s *Service) IssuerByID(ctx context.Context, id int64) (*inventory.Issuer, error) {
	return s.store.GetIssuer(ctx, id)
}

// AddIssuer adds a manual-vendor or ACME issuer; built-in CA issuers are
// made by SyncBuiltin only.
func (s *Service) AddIssuer(ctx context.Context, actor string, i inventory.Issuer) (*inventory.Issuer, error) {
	i.ID, i.CAID = 0, 0
	if i.Kind == inventory.IssuerBuiltinCA {
		return nil, invalid("kind", "builtin-ca issuers are made from the CAs themselves, not added")
	}
	if err := checkIssuer(&i); err != nil {
		return nil, err
	}
	err := s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.PutIssuer(ctx, &i); err != nil {
			return conflict(err, "issuer %q exists", i.Name)
		}
		return s.audit(ctx, tx, actor, "issuer.create", inventory.KindIssuer, i.ID, i.Name, "kind "+string(i.Kind))
	})
	if err != nil {
		return nil, err
	}
	return &i, nil
}

// EditIssuer applies edit to the issuer called name and stores the
// result. The ID, kind and CA of an issuer cannot change.
func (s *Service) EditIssuer(ctx context.Context, actor, name string, edit func(*inventory.Issuer)) (*inventory.Issuer, error) {
	i, err := s.Issuer(ctx, name)
	if err != nil {
		return nil, err
	}
	id, kind, caID := i.ID, i.Kind, i.CAID
	edit(i)
	i.ID, i.Kind, i.CAID = id, kind, caID
	if err := checkIssuer(i); err != nil {
		return nil, err
	}
	err = s.store.InTx(ctx, func(tx inventory.Store) error {
		if err := tx.UpdateIssuer(ctx, i); err != nil {
			return conflict(err, "issuer %q exists", i.Name)
		}
		return s.audit(ctx, tx, actor, "issuer.update", inventory.KindIssuer, i.ID, i.Name, "was "+name)
	})
	if err != nil {
		return nil, err
	}
	return i, nil
}

func checkIssuer(i *inventory.Issuer) error {
	i.Name = strings.TrimSpace(i.Name)
	if i.Name == "" {
		return invalid("name", "issuer name is empty")
	}
	if !i.Kind.Valid() {
		return invalid("kind", "unknown issuer kind %q (want manual-vendor or acme)", i.Kind)
	}
	return nil
}

// fieldError is a *inventory.FieldError (so that errors.Is matches
// inventory.ErrInvalid and the API can name the field) whose message is the
// package's usual one-line sentence.
type fieldError struct {
	msg   string
	field *inventory.FieldError
}

func (e *fieldError) Error() string { return e.msg }
func (e *fieldError) Unwrap() error { return e.field }

// invalid reports bad input in field, which uses the API's JSON names.
func invalid(field, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	return &fieldError{msg: "catalogue: " + reason, field: &inventory.FieldError{Field: field, Reason: reason}}
}

// conflict rewords inventory.ErrConflict, keeping it inspectable.
func conflict(err error, format string, args ...any) error {
	if errors.Is(err, inventory.ErrConflict) {
		return fmt.Errorf("catalogue: "+format+": %w", append(args, inventory.ErrConflict)...)
	}
	return err
}

// audit records an action on the object of kind with row ID id, called
// name, through st (the store, or the change's transaction); summary
// holds no secret.
func (s *Service) audit(ctx context.Context, st auditor, actor, action, kind string, id int64, name, summary string) error {
	return st.AppendAudit(ctx, &inventory.AuditEvent{Time: s.now().UTC(), Actor: actor, Action: action,
		Object: inventory.ObjectRef(kind, id), Summary: inventory.NamedSummary(name, summary)})
}
