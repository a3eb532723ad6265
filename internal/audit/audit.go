// Package audit reads the audit trail and records the events no other
// service owns. The services that change things (users, definitions,
// acquisitions, ...) append their own events in the same transaction as
// the change; this package is the trail's reader.
package audit

import (
	"context"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Store is what the trail needs from the inventory; the inventory store
// is one.
type Store interface {
	AppendAudit(ctx context.Context, e *inventory.AuditEvent) error
	ListAudit(ctx context.Context, since time.Time, p inventory.Page) ([]inventory.AuditEvent, string, error)
	ListAuditNewest(ctx context.Context, since time.Time, p inventory.Page) ([]inventory.AuditEvent, string, error)
}

// Order is the order of a listing.
type Order int

// Orders of a listing; the zero value is Oldest.
const (
	// Oldest lists the oldest event first.
	Oldest Order = iota
	// Newest lists the newest event first.
	Newest
)

// Trail is the audit trail. Make one with New.
type Trail struct {
	st Store
}

// New returns the trail kept in st.
func New(st Store) *Trail { return &Trail{st: st} }

// List returns one page of the events at or after since (all of them when
// since is zero) in order o, and the cursor of the next page ("" on the
// last).
func (t *Trail) List(ctx context.Context, since time.Time, o Order, p inventory.Page) ([]inventory.AuditEvent, string, error) {
	if o == Newest {
		return t.st.ListAuditNewest(ctx, since, p)
	}
	return t.st.ListAudit(ctx, since, p)
}

// Record appends e, filling in its ID, and its Time when zero.
func (t *Trail) Record(ctx context.Context, e *inventory.AuditEvent) error {
	return t.st.AppendAudit(ctx, e)
}
