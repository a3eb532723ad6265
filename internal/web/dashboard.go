package web

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/certkeeper/certkeeper/client"
)

// This file holds the dashboard and the helpers the lifecycle screens
// (definitions, acquisitions, certificates, keys) share.

// listLimit is the page size of the lists.
const listLimit = 50

// attentionShown caps the attention list on the dashboard.
const attentionShown = 20

func (ui *UI) dashboardRoutes() []route {
	return []route{
		{"GET", "/{$}", user, ui.dashboard},
	}
}

// dashboardData fills the dashboard.
type dashboardData struct {
	D     *client.Dashboard
	Chart chart
	// Attention lists definitions expiring without an open process, with
	// their current certificates; AttentionMore says there are more.
	Attention     []definitionRow
	AttentionMore bool
	// Alerts are the first open alerts (alertsShown at most), OpenAlerts
	// counts them up to alertsCounted, and AlertsMore says there are more.
	Alerts     []client.Alert
	OpenAlerts int
	AlertsMore bool
}

// Open alerts on the dashboard: a short list, and a count up to a cap.
const (
	alertsShown   = 5
	alertsCounted = 100
)

func (ui *UI) dashboard(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	// The figures and the attention list are independent: fetch them at
	// the same time.
	var (
		d    *client.Dashboard
		data dashboardData
		dErr error
		wg   sync.WaitGroup
	)
	var open *client.AlertList
	var oErr error
	wg.Go(func() { d, dErr = ui.api.Dashboard(ctx) })
	wg.Go(func() {
		open, oErr = ui.api.ListAlerts(ctx, client.AlertQuery{State: "open", Page: client.Page{Limit: alertsCounted}})
	})
	aErr := ui.attention(ctx, &data)
	wg.Wait()
	if err := errors.Join(dErr, aErr, oErr); err != nil {
		return err
	}
	data.D, data.Chart = d, timelineChart(d.Timeline, d.Counts.Expiring30)
	data.OpenAlerts, data.AlertsMore = len(open.Items), open.Next != ""
	data.Alerts = open.Items[:min(alertsShown, len(open.Items))]
	ui.render(w, r, page{name: "dashboard", title: "Dashboard", section: "dashboard", data: data})
	return nil
}

// attention fills the definitions expiring without an open process, with
// their current certificates (looked up at the same time).
func (ui *UI) attention(ctx context.Context, data *dashboardData) error {
	att, err := ui.api.Attention(ctx, 0, client.Page{Limit: attentionShown})
	if err != nil {
		return err
	}
	data.AttentionMore = att.Next != ""
	data.Attention = make([]definitionRow, len(att.Items))
	errs := make([]error, len(att.Items))
	var wg sync.WaitGroup
	for i, def := range att.Items {
		data.Attention[i].Def = def
		if def.CurrentCertificateID == 0 {
			continue
		}
		wg.Go(func() {
			c, err := ui.api.GetCertificate(ctx, def.CurrentCertificateID)
			if err != nil && !client.IsNotFound(err) {
				errs[i] = err
			}
			data.Attention[i].Cert = c
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// chart is the expiry timeline drawn as SVG bars.
type chart struct {
	Width, Height, Base int
	Bars                []chartBar
	Labels              []chartLabel
	Max, Total          int
	Summary             string
}

type chartBar struct {
	X, Y, W, H int
	// HitY and HitH span the whole plot, for hovering days without bars.
	HitY, HitH int
	Class      string
	Title      string
	Empty      bool
}

type chartLabel struct {
	X    int
	Text string
}

// Chart geometry, in SVG user units.
const (
	chartBarW   = 8
	chartGap    = 2
	chartPlotH  = 140
	chartTop    = 8
	chartMargin = 4
	chartAxisH  = 22
	chartLabelE = 14
)

// timelineChart lays out one bar per day, scaled to the busiest day.
// within30 is the API's count of certificates expiring within 30 days,
// quoted as is so the summary agrees with the dashboard's card (day
// buckets end at midnight, the API's 30 days at this very time).
func timelineChart(days []client.TimelineDay, within30 int) chart {
	c := chart{Width: 2*chartMargin + len(days)*(chartBarW+chartGap), Height: chartTop + chartPlotH + chartAxisH}
	c.Base = chartTop + chartPlotH
	busiest := ""
	for _, d := range days {
		c.Total += d.Count
		if d.Count > c.Max {
			c.Max, busiest = d.Count, d.Date
		}
	}
	for i, d := range days {
		x := chartMargin + i*(chartBarW+chartGap)
		b := chartBar{X: x, W: chartBarW, HitY: chartTop, HitH: chartPlotH, Class: "bar", Empty: d.Count == 0,
			Title: fmt.Sprintf("%s: %d %s", d.Date, d.Count, map[bool]string{true: "certificate", false: "certificates"}[d.Count == 1])}
		switch {
		case i < 7:
			b.Class = "bar soon"
		case i < 30:
			b.Class = "bar near"
		}
		if c.Max > 0 && d.Count > 0 {
			b.H = max(2, d.Count*chartPlotH/c.Max)
		}
		b.Y = c.Base - b.H
		c.Bars = append(c.Bars, b)
		if i%chartLabelE == 0 {
			text := d.Date
			if t, err := time.Parse(time.DateOnly, d.Date); err == nil {
				text = t.Format("Jan 2")
			}
			c.Labels = append(c.Labels, chartLabel{X: x, Text: text})
		}
	}
	switch {
	case len(days) == 0:
		c.Summary = "Expiry timeline: no data."
	case c.Total == 0:
		c.Summary = fmt.Sprintf("Expiry timeline of the next %d days: no certificate expires.", len(days))
	default:
		c.Summary = fmt.Sprintf("Expiry timeline of the next %d days: %d certificates expire, %d of them within 30 days; the busiest day is %s with %d.",
			len(days), c.Total, within30, busiest, c.Max)
	}
	return c
}

// Helpers shared by the lifecycle screens.

// apiError makes an error that ui.fail and formError treat as the API's
// refusal with status, message and field errors (pairs of field, reason).
func apiError(status int, msg string, fieldReasons ...string) error {
	p := client.Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: msg}
	for i := 0; i+1 < len(fieldReasons); i += 2 {
		p.Errors = append(p.Errors, client.FieldProblem{Field: fieldReasons[i], Detail: fieldReasons[i+1]})
	}
	return &client.Error{Problem: p}
}

// pathID reads the numeric path value name; anything else is a 404.
func pathID(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, apiError(http.StatusNotFound, fmt.Sprintf("There is no page at %s.", r.URL.Path))
	}
	return n, nil
}

// listPage is the page of a list the request asks for.
func listPage(r *http.Request) client.Page {
	return client.Page{Limit: listLimit, After: r.URL.Query().Get("after")}
}

// sendFile answers data as a download called name.
func sendFile(w http.ResponseWriter, contentType, name string, data []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(data)
}

// issuerMap returns the issuers by ID.
func (ui *UI) issuerMap(ctx context.Context) (map[int64]client.Issuer, error) {
	l, err := ui.api.ListIssuers(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]client.Issuer, len(l.Items))
	for _, i := range l.Items {
		m[i.ID] = i
	}
	return m, nil
}
