// Package metrics exposes certkeeper's state to Prometheus in the text
// exposition format. Nothing is kept between scrapes: each request reads
// its sources (monitored endpoints, definitions' current certificates,
// firing alerts, the scheduler) under the request's context, bounded by a
// timeout, and a source that fails is reported by a metric of its own
// instead of breaking the page.
package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Defaults of Config.
const (
	// DefaultMaxSeries is how many endpoints, certificates, alert rules
	// and job/result pairs a scrape reports at most, each.
	DefaultMaxSeries = 10000
	// DefaultTimeout bounds the reading of all sources in one scrape.
	DefaultTimeout = 10 * time.Second
)

// RunTotal counts the runs of one scheduler job kind that ended with one
// result ("ok", "error", ...) since the process started.
type RunTotal struct {
	Job, Result string
	Count       uint64
}

// Sources are what a scrape reads. A nil source is left out: its metrics
// and its scrape-error metric are absent.
type Sources struct {
	// Endpoints returns the monitored endpoints with their latest result
	// (inventory.EndpointReader.AllEndpoints).
	Endpoints func(ctx context.Context) ([]inventory.Endpoint, error)
	// Certificates returns the definitions' current certificates
	// (inventory.DefinitionStore.DefinitionCertificates).
	Certificates func(ctx context.Context) ([]inventory.DefinitionCertificate, error)
	// Alerts returns the number of firing alerts by rule name.
	Alerts func(ctx context.Context) (map[string]int, error)
	// Leader reports whether this instance runs the scheduled jobs.
	Leader func() bool
	// RunTotals returns the scheduler's run counters.
	RunTotals func() []RunTotal
}

// Config tunes an Exporter. The zero value uses the defaults.
type Config struct {
	// MaxSeries caps each source's items per scrape (see
	// DefaultMaxSeries); the items past it are dropped, in the sources'
	// order, and counted in certkeeper_scrape_dropped_items. 0 means
	// DefaultMaxSeries.
	MaxSeries int
	// Timeout bounds one scrape's reading of its sources; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Log receives the sources' errors; nil discards them.
	Log *slog.Logger
}

// Exporter serves the metrics of its sources.
type Exporter struct {
	src  Sources
	cfg  Config
	desc descs
}

// New returns an Exporter over src.
func New(src Sources, cfg Config) *Exporter {
	if cfg.MaxSeries <= 0 {
		cfg.MaxSeries = DefaultMaxSeries
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Exporter{src: src, cfg: cfg, desc: newDescs()}
}

// Handler serves GET requests with the metrics in the Prometheus text
// exposition format (or what the scraper negotiates), read at request
// time under the request's context.
func (e *Exporter) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), e.cfg.Timeout)
		defer cancel()
		reg := prometheus.NewPedanticRegistry()
		if err := reg.Register(&scrape{ctx: ctx, e: e}); err != nil {
			http.Error(w, "metrics: "+err.Error(), http.StatusInternalServerError)
			return
		}
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{
			ErrorHandling: promhttp.ContinueOnError,
			ErrorLog:      logAdapter{e.cfg.Log},
		}).ServeHTTP(w, r)
	})
}

// logAdapter gives promhttp's error log to slog.
type logAdapter struct{ log *slog.Logger }

func (l logAdapter) Println(v ...any) {
	l.log.Warn("metrics: " + fmt.Sprint(v...))
}
