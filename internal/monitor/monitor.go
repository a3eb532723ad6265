package monitor

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/keys"
	"github.com/certkeeper/certkeeper/internal/outbound"
	"github.com/certkeeper/certkeeper/internal/settings"
	"github.com/certkeeper/certkeeper/internal/truststore"
)

// Store is what monitoring needs of the inventory.
type Store interface {
	inventory.EndpointStore
	GetCertificate(ctx context.Context, id int64) (*inventory.Certificate, error)
	Chain(ctx context.Context, id int64) ([]inventory.Certificate, error)
	GetKey(ctx context.Context, id int64) (*inventory.Key, error)
	GetDefinition(ctx context.Context, id int64) (*inventory.Definition, error)
	GetDeployment(ctx context.Context, id int64) (*inventory.Deployment, error)
	ListDeployments(ctx context.Context, f inventory.DeploymentFilter, p inventory.Page) (*inventory.DeploymentPage, error)
	GetTarget(ctx context.Context, id int64) (*inventory.Target, error)
	InTx(ctx context.Context, fn func(tx inventory.Store) error) error
}

// Settings gives the monitoring settings in force.
type Settings interface {
	Get(ctx context.Context) (*settings.Settings, error)
}

// Anchors gives the roots checks trust.
type Anchors interface {
	Anchors(ctx context.Context) (*truststore.Anchors, error)
}

// Config holds the service's dependencies. The zero value works: no
// settings (the defaults), system roots only, direct connections,
// time.Now, random jitter.
type Config struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Outbound carries every check's connections under the outbound
	// policy; nil connects directly.
	Outbound *outbound.Dialer
	// Trust gives the roots a served chain must verify to; nil means the
	// system roots.
	Trust Anchors
	// Settings gives the time of day, retention and concurrency; nil
	// means their defaults.
	Settings Settings
	// Sealer opens the keys of client certificates.
	Sealer *keys.Sealer
	// CheckTimeout bounds one check; 0 means the probe's own default.
	CheckTimeout time.Duration
	// Jitter returns a random duration in [0, max); nil means uniform.
	Jitter func(max time.Duration) time.Duration
	// AfterPass, when set, is called after every Pass and RunNow (the
	// alerts service judges the new results there).
	AfterPass func(ctx context.Context)
	// Log receives what a pass could not do; nil discards it.
	Log *slog.Logger
}

// Service keeps the monitored endpoints and checks them. It is safe for
// concurrent use.
type Service struct {
	store Store
	c     Config
}

// New returns the service over st.
func New(st Store, c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Jitter == nil {
		c.Jitter = uniformJitter
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, c: c}
}

func uniformJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max)))
}

// monitoring returns the settings in force, the defaults without a
// settings service.
func (s *Service) monitoring(ctx context.Context) (settings.Monitoring, error) {
	def := settings.Monitoring{TimeOfDay: settings.DefaultMonitorTime,
		RetentionDays: settings.DefaultMonitorRetentionDays, Concurrency: settings.DefaultMonitorConcurrency}
	if s.c.Settings == nil {
		return def, nil
	}
	st, err := s.c.Settings.Get(ctx)
	if err != nil {
		return def, err
	}
	return st.Monitoring, nil
}

// nextCheck is when an endpoint checked at now is due again: now plus
// the interval and up to 10% of it, or, for interval 0, the next daily
// monitoring time plus up to 30 minutes.
func (s *Service) nextCheck(interval time.Duration, now time.Time, m settings.Monitoring) time.Time {
	if interval > 0 {
		return now.Add(interval + s.c.Jitter(interval/10))
	}
	return NextDaily(now, m).Add(s.c.Jitter(30 * time.Minute))
}

// NextDaily is the first daily monitoring time (UTC) after now.
func NextDaily(now time.Time, m settings.Monitoring) time.Time {
	h, min := m.DailyAt()
	now = now.UTC()
	t := time.Date(now.Year(), now.Month(), now.Day(), h, min, 0, 0, time.UTC)
	if !t.After(now) {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

func (s *Service) audit(ctx context.Context, tx inventory.Store, actor, action string, id int64, summary string) error {
	return tx.AppendAudit(ctx, &inventory.AuditEvent{Time: s.c.Now().UTC(), Actor: actor, Action: action,
		Object: inventory.ObjectRef(inventory.KindEndpoint, id), Summary: summary})
}
