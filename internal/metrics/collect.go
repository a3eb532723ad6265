package metrics

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Source names, as the scrape metrics label them.
const (
	SourceEndpoints    = "endpoints"
	SourceCertificates = "certificates"
	SourceAlerts       = "alerts"
	SourceJobs         = "jobs"
)

// maxLabelLen bounds a label value in bytes; longer values are cut.
const maxLabelLen = 256

// descs are the metric descriptions, made once per Exporter.
type descs struct {
	checkSuccess, leafNotAfter, leafLifetime, chainNotAfter, lastCheck, failures *prometheus.Desc
	certNotBefore, certNotAfter, alertsFiring, jobRuns, leader                   *prometheus.Desc
	scrapeError, dropped                                                         *prometheus.Desc
}

func newDescs() descs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("certkeeper_"+name, help, labels, nil)
	}
	return descs{
		checkSuccess:  d("endpoint_check_success", "1 when the endpoint's latest check passed, 0 when it failed or the endpoint could not be observed.", "endpoint"),
		leafNotAfter:  d("endpoint_leaf_not_after_seconds", "End of validity of the leaf certificate the endpoint served at its latest check, in Unix seconds.", "endpoint"),
		leafLifetime:  d("endpoint_leaf_lifetime_seconds", "Whole validity period (NotAfter - NotBefore) of the leaf certificate the endpoint served at its latest check.", "endpoint"),
		chainNotAfter: d("endpoint_chain_earliest_not_after_seconds", "Earliest end of validity among the certificates the endpoint served (leaf included) at its latest check, in Unix seconds.", "endpoint"),
		lastCheck:     d("endpoint_last_check_timestamp_seconds", "Time of the endpoint's latest check, in Unix seconds.", "endpoint"),
		failures:      d("endpoint_consecutive_failures", "Checks in a row that could not observe the endpoint.", "endpoint"),
		certNotBefore: d("certificate_not_before_seconds", "Start of validity of a definition's current certificate, in Unix seconds.", "definition", "common_name", "serial"),
		certNotAfter:  d("certificate_not_after_seconds", "End of validity of a definition's current certificate, in Unix seconds.", "definition", "common_name", "serial"),
		alertsFiring:  d("alerts_firing", "Alerts firing now, by rule.", "rule"),
		jobRuns:       d("job_runs_total", "Scheduler job runs since the process started, by job kind and result.", "job", "result"),
		leader:        d("scheduler_leader", "1 when this instance runs the scheduled jobs, 0 otherwise.", nil...),
		scrapeError:   d("scrape_error", "1 when the source could not be read during this scrape, 0 when it was.", "source"),
		dropped:       d("scrape_dropped_items", "Items of the source left out of this scrape by the series cap.", "source"),
	}
}

// scrape is a Collector bound to one request's context.
type scrape struct {
	ctx context.Context
	e   *Exporter
}

// Describe sends every description, so that the registry checks what
// Collect sends against them.
func (s *scrape) Describe(ch chan<- *prometheus.Desc) {
	d := s.e.desc
	for _, desc := range []*prometheus.Desc{d.checkSuccess, d.leafNotAfter, d.leafLifetime, d.chainNotAfter, d.lastCheck,
		d.failures, d.certNotBefore, d.certNotAfter, d.alertsFiring, d.jobRuns, d.leader, d.scrapeError, d.dropped} {
		ch <- desc
	}
}

// Collect reads every source and sends its metrics.
func (s *scrape) Collect(ch chan<- prometheus.Metric) {
	src := s.e.src
	if src.Endpoints != nil {
		eps, err := src.Endpoints(s.ctx)
		s.sourceDone(ch, SourceEndpoints, err, len(eps))
		s.endpoints(ch, eps)
	}
	if src.Certificates != nil {
		certs, err := src.Certificates(s.ctx)
		s.sourceDone(ch, SourceCertificates, err, len(certs))
		s.certificates(ch, certs)
	}
	if src.Alerts != nil {
		firing, err := src.Alerts(s.ctx)
		s.sourceDone(ch, SourceAlerts, err, len(firing))
		s.alerts(ch, firing)
	}
	if src.RunTotals != nil {
		totals := src.RunTotals()
		s.sourceDone(ch, SourceJobs, nil, len(totals))
		s.jobRuns(ch, totals)
	}
	if src.Leader != nil {
		ch <- gauge(s.e.desc.leader, boolValue(src.Leader()))
	}
}

// sourceDone sends a source's scrape-error and dropped-items metrics and
// logs its error.
func (s *scrape) sourceDone(ch chan<- prometheus.Metric, source string, err error, n int) {
	if err != nil {
		s.e.cfg.Log.Warn("metrics: reading a source failed", "source", source, "err", err)
	}
	ch <- gauge(s.e.desc.scrapeError, boolValue(err != nil), source)
	ch <- gauge(s.e.desc.dropped, float64(max(0, n-s.e.cfg.MaxSeries)), source)
}

// endpoints sends the metrics of the endpoints checked at least once.
func (s *scrape) endpoints(ch chan<- prometheus.Metric, eps []inventory.Endpoint) {
	d := s.e.desc
	seen := make(map[string]bool, len(eps))
	for _, ep := range eps[:min(len(eps), s.e.cfg.MaxSeries)] {
		if ep.Last == nil {
			continue
		}
		name := uniqueLabel(seen, endpointLabel(ep), ep.ID)
		last := ep.Last
		ch <- gauge(d.checkSuccess, boolValue(last.Check.Error == "" && last.Check.Passed), name)
		ch <- gauge(d.failures, float64(ep.Failures), name)
		if !last.Check.Time.IsZero() {
			ch <- gauge(d.lastCheck, unixSeconds(last.Check.Time), name)
		}
		if !last.LeafNotAfter.IsZero() {
			ch <- gauge(d.leafNotAfter, unixSeconds(last.LeafNotAfter), name)
		}
		if last.LeafLifetime > 0 {
			ch <- gauge(d.leafLifetime, last.LeafLifetime.Seconds(), name)
		}
		if !last.ChainNotAfter.IsZero() {
			ch <- gauge(d.chainNotAfter, unixSeconds(last.ChainNotAfter), name)
		}
	}
}

// certificates sends the definitions' current certificates' expiry.
func (s *scrape) certificates(ch chan<- prometheus.Metric, certs []inventory.DefinitionCertificate) {
	seen := make(map[string]bool, len(certs))
	for _, c := range certs[:min(len(certs), s.e.cfg.MaxSeries)] {
		def := uniqueLabel(seen, c.Definition, c.DefinitionID)
		cn, serial := label(c.CommonName), label(c.Serial)
		ch <- gauge(s.e.desc.certNotBefore, unixSeconds(c.NotBefore), def, cn, serial)
		ch <- gauge(s.e.desc.certNotAfter, unixSeconds(c.NotAfter), def, cn, serial)
	}
}

// alerts sends the firing alerts by rule, in rule name order.
func (s *scrape) alerts(ch chan<- prometheus.Metric, firing map[string]int) {
	rules := make([]string, 0, len(firing))
	for r := range firing {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	seen := make(map[string]bool, len(rules))
	for i, r := range rules[:min(len(rules), s.e.cfg.MaxSeries)] {
		ch <- gauge(s.e.desc.alertsFiring, float64(firing[r]), uniqueLabel(seen, r, int64(i)))
	}
}

// jobRuns sends the scheduler's run counters.
func (s *scrape) jobRuns(ch chan<- prometheus.Metric, totals []RunTotal) {
	seen := make(map[string]bool, len(totals))
	for _, t := range totals[:min(len(totals), s.e.cfg.MaxSeries)] {
		job, result := label(t.Job), label(t.Result)
		if key := job + "\x00" + result; !seen[key] {
			seen[key] = true
			ch <- prometheus.MustNewConstMetric(s.e.desc.jobRuns, prometheus.CounterValue, float64(t.Count), job, result)
		}
	}
}

// endpointLabel names an endpoint: its address, and the server name
// when one is set and differs from the address's host.
func endpointLabel(ep inventory.Endpoint) string {
	host := ep.Address
	if i := strings.LastIndex(host, ":"); i >= 0 {
		host = strings.Trim(host[:i], "[]")
	}
	if ep.ServerName == "" || strings.EqualFold(ep.ServerName, host) {
		return ep.Address
	}
	return ep.Address + "/" + ep.ServerName
}

// uniqueLabel returns the bounded label of v, followed by "#id" when an
// earlier item of the same scrape had the same label (two endpoints on
// one address, one with STARTTLS, say): the series stay distinct.
func uniqueLabel(seen map[string]bool, v string, id int64) string {
	l := label(v)
	if seen[l] {
		suffix := "#" + strconv.FormatInt(id, 10)
		l = cut(l, maxLabelLen-len(suffix)) + suffix
	}
	seen[l] = true
	return l
}

// label makes v a valid label value of at most maxLabelLen bytes.
func label(v string) string {
	return cut(strings.ToValidUTF8(v, "\uFFFD"), maxLabelLen)
}

// cut shortens the valid UTF-8 v to at most n bytes, on a rune boundary.
func cut(v string, n int) string {
	if len(v) <= n {
		return v
	}
	v = v[:n]
	for !utf8.ValidString(v) {
		v = v[:len(v)-1]
	}
	return v
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
