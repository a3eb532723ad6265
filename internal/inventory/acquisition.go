package inventory

import (
	"context"
	"time"
)

// AcquisitionKind says whether an acquisition gets a definition its first
// certificate or a successor to the current one.
type AcquisitionKind string

// Acquisition kinds.
const (
	AcquisitionNew     AcquisitionKind = "new"
	AcquisitionRenewal AcquisitionKind = "renewal"
)

// Valid reports whether k is a known kind.
func (k AcquisitionKind) Valid() bool { return k == AcquisitionNew || k == AcquisitionRenewal }

// AcquisitionState is where an acquisition process stands.
//
//	csr_ready ──issue (built-in CA)──────────────────────────┐
//	    │  └──issue outside policy──> pending_approval ─approve─┤
//	    │                                   └─reject─> cancelled│
//	    │                                                    v
//	    └──order (vendor)──> ordered ──upload, validated──> issued ──switch──> completed
//
// Any open state may go to cancelled. csr_ready, pending_approval,
// ordered and issued are open; completed and cancelled are closed. A definition has at most one
// open acquisition.
type AcquisitionState string

// Acquisition states.
const (
	// StateCSRReady: the key and the request exist and an issuer is
	// chosen; a built-in CA can issue now, a vendor's order is awaited.
	StateCSRReady AcquisitionState = "csr_ready"
	// StatePendingApproval: a built-in CA found the request outside the
	// requester's issuance policy and its CA asks for approval: an admin
	// other than the requester approves (the CA issues) or rejects it.
	StatePendingApproval AcquisitionState = "pending_approval"
	// StateOrdered: the order at the vendor is recorded; the certificate
	// is awaited.
	StateOrdered AcquisitionState = "ordered"
	// StateIssued: the certificate was received, validated and registered
	// in the inventory; it is not yet the definition's current one.
	StateIssued AcquisitionState = "issued"
	// StateCompleted: the certificate became the definition's current
	// certificate.
	StateCompleted AcquisitionState = "completed"
	// StateCancelled: the process was abandoned.
	StateCancelled AcquisitionState = "cancelled"
)

// Valid reports whether s is a known state.
func (s AcquisitionState) Valid() bool {
	switch s {
	case StateCSRReady, StatePendingApproval, StateOrdered, StateIssued, StateCompleted, StateCancelled:
		return true
	}
	return false
}

// Open reports whether the process is still under way.
func (s AcquisitionState) Open() bool {
	return s == StateCSRReady || s == StatePendingApproval || s == StateOrdered || s == StateIssued
}

// OpenAcquisitionStates lists the open states.
var OpenAcquisitionStates = []AcquisitionState{StateCSRReady, StatePendingApproval, StateOrdered, StateIssued}

// Order is what was ordered at a vendor for an acquisition.
type Order struct {
	VendorAccountID int64     `json:"vendor_account_id,omitempty"`
	Number          string    `json:"number,omitempty"`
	Date            time.Time `json:"date,omitzero"`
	ProductID       int64     `json:"product_id,omitempty"`
	Notes           string    `json:"notes,omitempty"`
}

// Acquisition is one process that gets a certificate for a definition.
type Acquisition struct {
	ID           int64
	DefinitionID int64
	Kind         AcquisitionKind
	State        AcquisitionState
	// IssuerID and ProductID are the chosen issuer and product.
	IssuerID  int64
	ProductID int64
	// KeyID and CSRID are the key and the request the process made (or
	// reused).
	KeyID int64
	CSRID int64
	// Order is set once the vendor order is recorded.
	Order *Order
	// CertificateID is the received certificate; zero before StateIssued.
	CertificateID int64
	// Differences lists how the received certificate's names differ from
	// the definition's ("missing: b.example.com", "extra: c.example.com").
	Differences []string
	// AutoSwitch makes the received certificate current as soon as it is
	// registered.
	AutoSwitch bool
	// Version counts changes, starting at 1.
	Version   int64
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AcquisitionStep records one step of a process: who did what, when.
type AcquisitionStep struct {
	ID            int64
	AcquisitionID int64
	Time          time.Time
	Actor         string
	// Action is a short verb: "created", "key_generated", "key_reused",
	// "csr_created", "issuer_chosen", "csr_downloaded", "issued",
	// "ordered", "certificate_uploaded", "switched", "cancelled",
	// "approval_requested", "approved", "rejected".
	Action string
	// Detail is a one-line human summary; never secret.
	Detail string
}

// AcquisitionFilter selects acquisition processes. The zero value selects
// all.
type AcquisitionFilter struct {
	DefinitionID int64
	// States keeps processes in one of these states; empty means any.
	States   []AcquisitionState
	IssuerID int64
	KeyID    int64
}

// AcquisitionPage is one page of processes ordered by ID.
type AcquisitionPage struct {
	Items []Acquisition
	Next  string
}

// AcquisitionStore is the part of the Store contract that keeps
// acquisition processes and their steps.
type AcquisitionStore interface {
	// PutAcquisition stores a new process with its first steps in one
	// transaction and sets a.ID, a.Version (1), a.CreatedAt and
	// a.UpdatedAt (when zero) and each step's ID and AcquisitionID. An
	// unknown definition gives ErrNotFound; an open process for the
	// definition already, ErrConflict.
	PutAcquisition(ctx context.Context, a *Acquisition, steps ...AcquisitionStep) error
	// UpdateAcquisition writes every mutable field of a (state, issuer,
	// product, key, CSR, order, certificate, differences, auto-switch)
	// when the stored version equals a.Version, appends steps, then
	// increments a.Version and sets a.UpdatedAt; one transaction. A
	// different version gives ErrConflict, an unknown ID ErrNotFound.
	UpdateAcquisition(ctx context.Context, a *Acquisition, steps ...AcquisitionStep) error
	// SwitchCurrent does what UpdateAcquisition does and, in the same
	// transaction, makes a.CertificateID the current certificate of
	// definition a.DefinitionID (incrementing the definition's version).
	SwitchCurrent(ctx context.Context, a *Acquisition, steps ...AcquisitionStep) error
	GetAcquisition(ctx context.Context, id int64) (*Acquisition, error)
	ListAcquisitions(ctx context.Context, f AcquisitionFilter, p Page) (*AcquisitionPage, error)
	// CountAcquisitionsByState counts the processes f selects by state,
	// in one query; states without a process are absent from the map.
	CountAcquisitionsByState(ctx context.Context, f AcquisitionFilter) (map[AcquisitionState]int, error)
	// AcquisitionSteps returns a process's steps in order.
	AcquisitionSteps(ctx context.Context, id int64) ([]AcquisitionStep, error)
	// ExpiringWithoutAcquisition returns the definitions whose current
	// certificate expires before before or is revoked and that have no
	// open process, ordered by that certificate's expiry then definition
	// ID.
	ExpiringWithoutAcquisition(ctx context.Context, before time.Time, p Page) (*DefinitionPage, error)
	// CountExpiringWithoutAcquisition returns how many definitions
	// ExpiringWithoutAcquisition selects, in one query.
	CountExpiringWithoutAcquisition(ctx context.Context, before time.Time) (int, error)
}
