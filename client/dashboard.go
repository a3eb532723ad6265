package client

import (
	"context"
	"time"
)

// Dashboard is the overview of the inventory and its processes.
type Dashboard struct {
	// At is the time the figures are for.
	At     time.Time       `json:"at"`
	Counts DashboardCounts `json:"counts"`
	// Timeline has one entry per UTC day from today on, 90 in all (days
	// without expiries included): the valid leaf certificates whose
	// NotAfter falls on that day.
	Timeline []TimelineDay `json:"timeline"`
	// Definitions is the number of definitions, OpenAcquisitions that of
	// acquisitions under way, and Attention that of definitions whose
	// current certificate expires within 60 days without an open
	// acquisition (the list is Attention with days 0).
	Definitions      int `json:"definitions"`
	OpenAcquisitions int `json:"open_acquisitions"`
	Attention        int `json:"attention"`
	// PendingApproval is the number of acquisitions outside a CA's
	// issuance policy waiting for an admin (counted in OpenAcquisitions
	// too).
	PendingApproval int `json:"pending_approval"`
	// Stuck lists the open acquisitions unchanged for 14 days, from
	// the first 1,000 open ones in ID order; empty when none is.
	Stuck []StuckAcquisition `json:"stuck"`
}

// StuckAcquisition is an open acquisition that has not moved for a while.
type StuckAcquisition struct {
	Acquisition Acquisition `json:"acquisition"`
	// Since is when it last moved: its order date once ordered, else
	// its last change; Days the whole days from Since to Dashboard.At.
	Since time.Time `json:"since"`
	Days  int       `json:"days"`
	// Reason says in a few words what it waits for.
	Reason string `json:"reason"`
}

// DashboardCounts counts the certificates (leaf and CA) by status at
// Dashboard.At, as ListCertificates' status filter does; the four
// statuses add up to the whole inventory.
type DashboardCounts struct {
	Valid       int `json:"valid"`
	Expired     int `json:"expired"`
	NotYetValid int `json:"not_yet_valid"`
	Revoked     int `json:"revoked"`
	// Expiring30 is the valid leaf certificates expiring within 30 days.
	Expiring30 int `json:"expiring_30"`
}

// TimelineDay is the number of certificates expiring on one UTC day.
type TimelineDay struct {
	// Date is the day, "2006-01-02".
	Date  string `json:"date"`
	Count int    `json:"count"`
}

// Dashboard returns the overview.
func (c *Client) Dashboard(ctx context.Context) (*Dashboard, error) {
	var out Dashboard
	return &out, c.do(ctx, call{method: "GET", path: path("dashboard"), out: &out})
}
