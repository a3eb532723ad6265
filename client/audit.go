package client

import (
	"context"
	"time"
)

// AuditEvent is one entry of the audit trail; it never holds a secret.
type AuditEvent struct {
	ID      int64     `json:"id"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Object  string    `json:"object"`
	Summary string    `json:"summary,omitempty"`
}

// AuditList is one page of events, in the order they were recorded or,
// with AuditQuery.Newest, newest first.
type AuditList struct {
	Items []AuditEvent `json:"items"`
	Next  string       `json:"next,omitempty"`
}

// AuditQuery selects audit events.
type AuditQuery struct {
	// Since keeps events at or after it; zero means all.
	Since time.Time
	// Newest lists newest first.
	Newest bool
	Page
}

// ListAudit returns one page of audit events.
func (c *Client) ListAudit(ctx context.Context, q AuditQuery) (*AuditList, error) {
	v := q.Page.values()
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339))
	}
	if q.Newest {
		v.Set("order", "newest")
	}
	var out AuditList
	return &out, c.do(ctx, call{method: "GET", path: path("audit"), query: v, out: &out})
}
