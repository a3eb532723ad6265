package digest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/internal/inventory"
)

// Limits keep a digest readable: it points to the UI for the rest.
const (
	// MaxLines is the most lines a section lists; the rest are counted.
	MaxLines = 20
	// maxAuditPages caps the audit pages read for "what changed".
	maxAuditPages = 20
	auditPageSize = 500
)

// Digest is one digest: what needs action at At and what changed since
// Since.
type Digest struct {
	At, Since time.Time
	// Needs lists what needs action, by kind; Changed what happened.
	Needs   []Section
	Changed []Section
	base    string
}

// Section is a titled list of lines; Total counts the lines there are,
// Lines holds at most MaxLines of them.
type Section struct {
	Title string
	Total int
	Lines []Line
	// Link points to the page that lists them all.
	Link string
}

// Line is one thing in a section, with a link to it when it has a page.
type Line struct {
	Text string
	Link string
}

// Empty reports whether nothing needs action and nothing changed.
func (d *Digest) Empty() bool { return len(d.Needs) == 0 && len(d.Changed) == 0 }

// NeedCount is the number of things that need action.
func (d *Digest) NeedCount() int {
	n := 0
	for _, s := range d.Needs {
		n += s.Total
	}
	return n
}

// ChangeCount is the number of changes recorded since the last digest.
func (d *Digest) ChangeCount() int {
	n := 0
	for _, s := range d.Changed {
		n += s.Total
	}
	return n
}

func (d *Digest) link(path string) string {
	if d.base == "" {
		return ""
	}
	return d.base + path
}

// add appends a section of lines, unless there are none.
func (d *Digest) add(to *[]Section, title, link string, lines []Line) {
	if len(lines) == 0 {
		return
	}
	s := Section{Title: title, Total: len(lines), Lines: lines[:min(len(lines), MaxLines)], Link: d.link(link)}
	*to = append(*to, s)
}

// gather reads every source into d.
func (s *Service) gather(ctx context.Context, d *Digest) error {
	steps := []func(context.Context, *Digest) error{s.alerts, s.endpoints, s.stuck, s.changes}
	for _, step := range steps {
		if err := step(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) alerts(ctx context.Context, d *Digest) error {
	if s.src.Alerts == nil {
		return nil
	}
	all, err := s.src.Alerts(ctx)
	if err != nil {
		return fmt.Errorf("reading alerts: %w", err)
	}
	slices.SortStableFunc(all, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)), a.Since.Compare(b.Since))
	})
	var open, acked []Line
	for _, a := range all {
		l := Line{Text: fmt.Sprintf("[%s] %s: %s (since %s)", a.Severity, a.Subject, a.Summary, day(a.Since)),
			Link: d.link("/alerts/" + strconv.FormatInt(a.ID, 10))}
		if a.Acknowledged {
			acked = append(acked, l)
		} else {
			open = append(open, l)
		}
	}
	d.add(&d.Needs, "Open alerts", "/alerts", open)
	d.add(&d.Needs, "Acknowledged alerts still open", "/alerts?state=acknowledged", acked)
	return nil
}

func severityRank(s string) int {
	switch s {
	case inventory.SeverityCritical:
		return 0
	case inventory.SeverityWarning:
		return 1
	}
	return 2
}

func (s *Service) endpoints(ctx context.Context, d *Digest) error {
	if s.src.Endpoints == nil {
		return nil
	}
	all, err := s.src.Endpoints(ctx)
	if err != nil {
		return fmt.Errorf("reading endpoints: %w", err)
	}
	var lines []Line
	for _, e := range all {
		if e.Last.Status() != "failed" {
			continue
		}
		lines = append(lines, Line{Text: e.Address + ": " + failure(e.Last),
			Link: d.link("/endpoints/" + strconv.FormatInt(e.ID, 10))})
	}
	d.add(&d.Needs, "Endpoints failing their check", "/endpoints?status=failed", lines)
	return nil
}

// failure says in one line why a result failed.
func failure(r *inventory.EndpointResult) string {
	switch {
	case r.Check.Error != "":
		return r.Check.Error
	case len(r.Check.Problems) > 0:
		return r.Check.Problems[0]
	}
	return "the check failed"
}

func (s *Service) stuck(ctx context.Context, d *Digest) error {
	if s.src.Stuck == nil {
		return nil
	}
	all, err := s.src.Stuck(ctx)
	if err != nil {
		return fmt.Errorf("reading processes: %w", err)
	}
	var lines []Line
	for _, st := range all {
		a := st.Acquisition
		lines = append(lines, Line{Text: fmt.Sprintf("acquisition %d: %s", a.ID, st.Reason),
			Link: d.link("/acquisitions/" + strconv.FormatInt(a.ID, 10))})
	}
	d.add(&d.Needs, "Processes that have not moved", "/acquisitions", lines)
	return nil
}

// changes lists the audit trail since d.Since, newest last, one line per
// event, and counts them by action.
func (s *Service) changes(ctx context.Context, d *Digest) error {
	var lines []Line
	p := inventory.Page{Limit: auditPageSize}
	for range maxAuditPages {
		events, next, err := s.st.ListAudit(ctx, d.Since, p)
		if err != nil {
			return fmt.Errorf("reading the audit trail: %w", err)
		}
		for _, e := range events {
			if !e.Time.After(d.Since) || e.Time.After(d.At) || strings.HasPrefix(e.Object, inventory.KindRoute+":") || strings.HasPrefix(e.Object, objectKind+":") {
				continue
			}
			lines = append(lines, Line{Text: fmt.Sprintf("%s %s by %s: %s", e.Time.UTC().Format("2006-01-02 15:04"),
				e.Action, e.Actor, e.Summary)})
		}
		if next == "" {
			break
		}
		p.After = next
	}
	// The newest changes matter most when the list is cut.
	slices.Reverse(lines)
	d.add(&d.Changed, "Changes", "/audit", lines)
	return nil
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
