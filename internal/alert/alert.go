// Package alert turns what monitoring and the lifecycle know into alerts:
// it evaluates the alert rules against the facts (endpoint results,
// definitions, acquisition and deployment processes), keeps one alert per
// rule and subject from firing to resolved, and sends a notice when an
// alert fires, changes severity, repeats or resolves. People acknowledge
// and silence alerts; Admins change the rules and the label routing.
//
// See docs/alerts.md for the rules, their defaults and the lifecycle.
package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/settings"
)

// ErrForbidden matches (errors.Is) a change the acting user's role does
// not allow (silencing, rule and routing changes are for Admins).
var ErrForbidden = errors.New("alert: forbidden")

// Store is what the service needs from the inventory.
type Store interface {
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
	ListAlertRules(ctx context.Context) ([]inventory.AlertRule, error)
	GetAlert(ctx context.Context, id int64) (*inventory.Alert, error)
	ListAlerts(ctx context.Context, f inventory.AlertFilter, p inventory.Page) ([]inventory.Alert, string, error)
	CountAlertsByRule(ctx context.Context, state inventory.AlertState) (map[string]int, error)
	GetSetting(ctx context.Context, name string) ([]byte, error)
	Facts
}

// Facts are the lifecycle records the rules read.
type Facts interface {
	ListDefinitions(ctx context.Context, f inventory.DefinitionFilter, p inventory.Page) (*inventory.DefinitionPage, error)
	GetDefinition(ctx context.Context, id int64) (*inventory.Definition, error)
	GetCertificate(ctx context.Context, id int64) (*inventory.Certificate, error)
	ListAcquisitions(ctx context.Context, f inventory.AcquisitionFilter, p inventory.Page) (*inventory.AcquisitionPage, error)
	ListDeployments(ctx context.Context, f inventory.DeploymentFilter, p inventory.Page) (*inventory.DeploymentPage, error)
	GetDeployment(ctx context.Context, id int64) (*inventory.Deployment, error)
	GetTarget(ctx context.Context, id int64) (*inventory.Target, error)
}

// Endpoints is what the service reads of monitoring.
type Endpoints interface {
	AllEndpoints(ctx context.Context) ([]inventory.Endpoint, error)
}

// Settings gives the Admin e-mail and the external URL.
type Settings interface {
	Get(ctx context.Context) (*settings.Settings, error)
}

// Notifier sends a notice to people (e-mail and channels).
type Notifier interface {
	Notify(ctx context.Context, n inventory.Notice) error
}

// Options are the service's dependencies besides the store. Zero fields
// work: no endpoints are read when Endpoints is nil, nothing is sent
// (alerts are still recorded) when Notifier is nil, notices carry no
// link and go to no Admin address when Settings is nil.
type Options struct {
	Endpoints Endpoints
	Notifier  Notifier
	Settings  Settings
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives what is worth an operator's attention; nil discards.
	Log *slog.Logger
}

// Service evaluates rules and keeps alerts. It is safe for concurrent
// use; Evaluate calls are serialised by their transaction.
type Service struct {
	store     Store
	endpoints Endpoints
	notifier  Notifier
	settings  Settings
	now       func() time.Time
	log       *slog.Logger
}

// New returns the service over st.
func New(st Store, o Options) *Service {
	s := &Service{store: st, endpoints: o.Endpoints, notifier: o.Notifier, settings: o.Settings, now: o.Now, log: o.Log}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// SetNotifier sets the notifier Evaluate sends through; nil sends
// nothing. It must be called before the service is used concurrently.
func (s *Service) SetNotifier(n Notifier) { s.notifier = n }

// Get returns one alert; an unknown ID gives inventory.ErrNotFound.
func (s *Service) Get(ctx context.Context, id int64) (*inventory.Alert, error) {
	return s.store.GetAlert(ctx, id)
}

// List returns one page of alerts in state (any when ""), newest first,
// and the cursor of the next page. State "open" selects every state but
// resolved.
func (s *Service) List(ctx context.Context, state string, p inventory.Page) ([]inventory.Alert, string, error) {
	var f inventory.AlertFilter
	switch st := inventory.AlertState(state); {
	case state == "":
	case state == "open":
		f.States = []inventory.AlertState{inventory.AlertFiring, inventory.AlertAcknowledged, inventory.AlertSilenced}
	case st.Valid():
		f.States = []inventory.AlertState{st}
	default:
		return nil, "", inventory.Invalid("state", "state %q: want open, firing, acknowledged, silenced or resolved", state)
	}
	return s.store.ListAlerts(ctx, f, p)
}

// FiringByRule counts the firing alerts (neither acknowledged, silenced
// nor resolved) by rule name; every rule is present, zero counts
// included.
func (s *Service) FiringByRule(ctx context.Context) (map[string]int, error) {
	counts, err := s.store.CountAlertsByRule(ctx, inventory.AlertFiring)
	if err != nil {
		return nil, err
	}
	for _, d := range defaults {
		counts[d.Name] += 0
	}
	return counts, nil
}

// Open returns the open alerts (the newest inventory.MaxPageSize of
// them), most severe first, then newest first.
func (s *Service) Open(ctx context.Context) ([]inventory.Alert, error) {
	out, _, err := s.List(ctx, "open", inventory.Page{Limit: inventory.MaxPageSize})
	if err != nil {
		return nil, err
	}
	sortBySeverity(out)
	return out, nil
}

// forbidden returns an ErrForbidden error with a formatted reason.
func forbidden(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrForbidden}, args...)...)
}
