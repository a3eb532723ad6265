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

// AuditList is one page of events in the order they were recorded.
type AuditList struct {
	Items []AuditEvent `json:"items"`
	Next  string       `json:"next,omitempty"`
}

// AuditQuery selects audit events.
type AuditQuery struct {
	// Since keeps events at or after it; zero means all.
	Since time.Time
	Page
}

// CA is one of certkeeper's own certificate authorities.
type CA struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Status is active, pending or retired.
	Status        string     `json:"status"`
	Default       bool       `json:"default"`
	CertificateID int64      `json:"certificate_id,omitempty"`
	NotAfter      *time.Time `json:"not_after,omitempty"`
}

// CAList lists the CAs in ID order.
type CAList struct {
	Items []CA `json:"items"`
}

// ListAudit returns one page of audit events.
func (c *Client) ListAudit(ctx context.Context, q AuditQuery) (*AuditList, error) {
	v := q.Page.values()
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339))
	}
	var out AuditList
	return &out, c.do(ctx, call{method: "GET", path: path("audit"), query: v, out: &out})
}

// ListCAs returns certkeeper's CAs.
func (c *Client) ListCAs(ctx context.Context) (*CAList, error) {
	var out CAList
	return &out, c.do(ctx, call{method: "GET", path: path("cas"), out: &out})
}
