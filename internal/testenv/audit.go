package testenv

import (
	"context"
	"errors"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// ErrAuditRefused is what a RefusingAudit store answers every audit event
// with.
var ErrAuditRefused = errors.New("testenv: audit refused")

// RefusingAudit is a store whose audit events are refused, also inside
// its transactions: a service that writes its change and its audit event
// in one transaction must then keep neither.
type RefusingAudit struct{ inventory.Store }

// InTx runs fn with the transaction's store wrapped the same way.
func (s RefusingAudit) InTx(ctx context.Context, fn func(tx inventory.Store) error) error {
	return s.Store.InTx(ctx, func(tx inventory.Store) error { return fn(RefusingAudit{tx}) })
}

// AppendAudit refuses the event.
func (RefusingAudit) AppendAudit(context.Context, *inventory.AuditEvent) error {
	return ErrAuditRefused
}
