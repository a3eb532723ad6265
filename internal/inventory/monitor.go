package inventory

import (
	"context"
	"time"
)

// Endpoint sources: why an endpoint is monitored.
const (
	// EndpointDeployment endpoints follow a confirmed deployment's check
	// spec; they are added and removed with it.
	EndpointDeployment = "deployment"
	// EndpointCertificate and EndpointDefinition endpoints were named by
	// a certificate or a definition, which gives the expected leaf.
	EndpointCertificate = "certificate"
	EndpointDefinition  = "definition"
	// EndpointManual endpoints were added on their own; they expect no
	// particular certificate.
	EndpointManual = "manual"
)

// Endpoint is one TLS endpoint watched on a schedule.
type Endpoint struct {
	ID int64
	// Address is host:port; ServerName the SNI sent ("" means the host).
	Address    string
	ServerName string
	// StartTLS is the plain-text protocol upgraded first (a
	// probe.StartTLS value), "" for none and "auto" to pick by port.
	StartTLS string
	// ClientCertificateID is presented to servers that demand mutual
	// TLS; 0 means none.
	ClientCertificateID int64
	// Interval is the time between checks; 0 means daily at the
	// instance's monitoring time.
	Interval time.Duration
	// Source is one of the Endpoint* sources; the ID of the deployment,
	// certificate or definition it came from is in SourceID.
	Source   string
	SourceID int64
	// Labels route alerts to channels.
	Labels    []string
	CreatedAt time.Time
	// NextCheckAt is when the endpoint is due.
	NextCheckAt time.Time
	// Failures counts the runs in a row that could not observe the
	// endpoint (Last.Error set); 0 after a run that could.
	Failures int
	// Last is the latest result; nil before the first run.
	Last *EndpointResult
}

// EndpointResult is one observation of an endpoint, kept as history.
type EndpointResult struct {
	ID         int64
	EndpointID int64
	// Check is the judgement of what was served, as a deploy check makes
	// it (Error set when the endpoint could not be observed).
	Check CheckResult
	// ChainSHA256 are the served certificates' fingerprints, leaf first.
	ChainSHA256 []string
	// LeafNotAfter is the served leaf's end and LeafLifetime its whole
	// validity period; ChainNotAfter is the earliest end among the
	// served chain (leaf included). Zero when nothing was served.
	LeafNotAfter  time.Time
	LeafLifetime  time.Duration
	ChainNotAfter time.Time
	// ChainDaysLeft is the whole days until ChainNotAfter.
	ChainDaysLeft int
	// NotYetValid is set when the leaf's NotBefore is after the check.
	NotYetValid bool
}

// Status of a result as lists show it: "ok", "warning" (observed, with
// problems) or "failed" (not observed, or the check failed).
func (r *EndpointResult) Status() string {
	switch {
	case r == nil:
		return "pending"
	case r.Check.Error != "" || !r.Check.Passed:
		return "failed"
	case len(r.Check.Problems) > 0:
		return "warning"
	}
	return "ok"
}

// EndpointRecord is a result to record with the endpoint's next check
// time.
type EndpointRecord struct {
	Result *EndpointResult
	Next   time.Time
}

// EndpointReader is what other domains (alerts, metrics, the digest) read
// of monitoring.
type EndpointReader interface {
	// AllEndpoints returns every endpoint with its latest result, in ID
	// order.
	AllEndpoints(ctx context.Context) ([]Endpoint, error)
}

// EndpointStore keeps the monitored endpoints and their history.
type EndpointStore interface {
	EndpointReader
	// PutEndpoint stores a new endpoint and sets its ID and CreatedAt.
	// An endpoint with the same Address, ServerName, StartTLS, Source and
	// SourceID gives ErrConflict.
	PutEndpoint(ctx context.Context, e *Endpoint) error
	// UpdateEndpoint writes e's address, server name, STARTTLS, client
	// certificate, interval, labels and next check time; ErrNotFound for
	// an unknown ID, ErrConflict when it would duplicate another.
	UpdateEndpoint(ctx context.Context, e *Endpoint) error
	// DeleteEndpoint removes an endpoint with its history.
	DeleteEndpoint(ctx context.Context, id int64) error
	// GetEndpoint returns one endpoint with its latest result.
	GetEndpoint(ctx context.Context, id int64) (*Endpoint, error)
	// DueEndpoints returns up to limit endpoints whose NextCheckAt is at
	// or before now, the longest-due first.
	DueEndpoints(ctx context.Context, now time.Time, limit int) ([]Endpoint, error)
	// RecordEndpointResult stores r (setting its ID) as the endpoint's
	// latest result, sets Failures (one more when r.Check.Error is set,
	// else 0) and the next check time, in one transaction.
	RecordEndpointResult(ctx context.Context, r *EndpointResult, next time.Time) error
	// RecordEndpointResults records each of recs as RecordEndpointResult
	// does, all in one transaction, and returns how many it recorded. A
	// result whose endpoint is gone is skipped, its ID left 0; any other
	// failure records none.
	RecordEndpointResults(ctx context.Context, recs []EndpointRecord) (int, error)
	// EndpointHistory returns a page of an endpoint's results, newest
	// first, and the cursor of the next page ("" at the end).
	EndpointHistory(ctx context.Context, endpointID int64, p Page) ([]EndpointResult, string, error)
	// PruneEndpointResults deletes the results older than before, except
	// each endpoint's latest, and returns how many went.
	PruneEndpointResults(ctx context.Context, before time.Time) (int, error)
}
