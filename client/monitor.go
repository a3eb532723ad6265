package client

import (
	"context"
	"net/url"
	"time"
)

// Endpoint is one monitored TLS endpoint with its latest result.
type Endpoint struct {
	ID int64 `json:"id"`
	// Address is host:port; ServerName the SNI sent ("" means the host).
	Address    string `json:"address"`
	ServerName string `json:"server_name,omitempty"`
	// StartTLS is the plain-text protocol upgraded first ("" for none).
	StartTLS            string `json:"starttls,omitempty"`
	ClientCertificateID int64  `json:"client_certificate_id,omitempty"`
	// Interval is a Go duration ("6h0m0s"); "0s" means daily at the
	// monitoring time.
	Interval string `json:"interval"`
	// Source is deployment, certificate, definition or manual; SourceID
	// the deployment, certificate or definition.
	Source      string    `json:"source"`
	SourceID    int64     `json:"source_id,omitempty"`
	Labels      []string  `json:"labels,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	NextCheckAt time.Time `json:"next_check_at"`
	// Failures counts the runs in a row that could not observe it.
	Failures int `json:"failures"`
	// Status is ok, warning, failed or pending (not checked yet).
	Status string          `json:"status"`
	Last   *EndpointResult `json:"last,omitempty"`
}

// EndpointResult is one observation of an endpoint.
type EndpointResult struct {
	ID         int64       `json:"id"`
	EndpointID int64       `json:"endpoint_id"`
	Check      CheckResult `json:"check"`
	// ChainSHA256 are the served certificates' fingerprints, leaf first.
	ChainSHA256 []string `json:"chain_sha256,omitempty"`
	// LeafNotAfter is the served leaf's end, LeafLifetime its whole
	// validity (a Go duration); ChainNotAfter the earliest end in the
	// served chain and ChainDaysLeft the whole days until it.
	LeafNotAfter  time.Time `json:"leaf_not_after,omitzero"`
	LeafLifetime  string    `json:"leaf_lifetime,omitempty"`
	ChainNotAfter time.Time `json:"chain_not_after,omitzero"`
	ChainDaysLeft int       `json:"chain_days_left"`
	NotYetValid   bool      `json:"not_yet_valid,omitempty"`
	// Status is ok, warning or failed.
	Status string `json:"status"`
}

// EndpointList is a list of endpoints.
type EndpointList struct {
	Items []Endpoint `json:"items"`
}

// EndpointHistory is a page of an endpoint's results, newest first.
type EndpointHistory struct {
	Items []EndpointResult `json:"items"`
	Next  string           `json:"next,omitempty"`
}

// EndpointFilter selects endpoints; the zero value selects all.
type EndpointFilter struct {
	// Status is ok, warning, failed or pending.
	Status string
	// Source is deployment, certificate, definition or manual.
	Source string
	// Q is text in the address, server name or labels.
	Q string
}

// EndpointAdd describes an endpoint to monitor.
type EndpointAdd struct {
	// Address is HOST:PORT.
	Address    string `json:"address"`
	ServerName string `json:"server_name,omitempty"`
	// StartTLS is smtp, imap, pop3, ftp, ldap, xmpp, postgres, mysql,
	// auto or "" (none).
	StartTLS            string `json:"starttls,omitempty"`
	ClientCertificateID int64  `json:"client_certificate_id,omitempty"`
	// Interval is a Go duration of at least 1m; "" or "0s" means daily.
	Interval string `json:"interval,omitempty"`
	// CertificateID or DefinitionID names what the endpoint should serve;
	// neither means any certificate (the rest is still judged).
	CertificateID int64    `json:"certificate_id,omitempty"`
	DefinitionID  int64    `json:"definition_id,omitempty"`
	Labels        []string `json:"labels,omitempty"`
}

// MonitorRun asks for the endpoints IDs (every endpoint when empty) to
// be checked at once.
type MonitorRun struct {
	IDs []int64 `json:"ids,omitempty"`
}

// ListEndpoints returns the monitored endpoints f selects.
func (c *Client) ListEndpoints(ctx context.Context, f EndpointFilter) (*EndpointList, error) {
	q := url.Values{}
	for k, v := range map[string]string{"status": f.Status, "source": f.Source, "q": f.Q} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out EndpointList
	return &out, c.do(ctx, call{method: "GET", path: path("endpoints"), query: q, out: &out})
}

// AddEndpoint starts monitoring an endpoint (admins only).
func (c *Client) AddEndpoint(ctx context.Context, in EndpointAdd) (*Endpoint, error) {
	var out Endpoint
	return &out, c.do(ctx, call{method: "POST", path: path("endpoints"), in: in, out: &out})
}

// GetEndpoint returns an endpoint with its latest result.
func (c *Client) GetEndpoint(ctx context.Context, id int64) (*Endpoint, error) {
	var out Endpoint
	return &out, c.do(ctx, call{method: "GET", path: path("endpoints", id), out: &out})
}

// RemoveEndpoint stops monitoring an endpoint and drops its history
// (admins only; the endpoints of deployments cannot be removed).
func (c *Client) RemoveEndpoint(ctx context.Context, id int64) error {
	return c.do(ctx, call{method: "DELETE", path: path("endpoints", id)})
}

// GetEndpointHistory returns a page of an endpoint's results, newest
// first.
func (c *Client) GetEndpointHistory(ctx context.Context, id int64, p Page) (*EndpointHistory, error) {
	var out EndpointHistory
	return &out, c.do(ctx, call{method: "GET", path: path("endpoints", id, "history"), query: p.values(), out: &out})
}

// RunMonitor checks the endpoints ids (every endpoint when none) at once
// and returns them with their new results.
func (c *Client) RunMonitor(ctx context.Context, ids ...int64) (*EndpointList, error) {
	var out EndpointList
	return &out, c.do(ctx, call{method: "POST", path: path("monitor", "run"), in: MonitorRun{IDs: ids}, out: &out})
}
