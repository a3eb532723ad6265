package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/certkeeper/certkeeper/client"
)

// daysChart is the days left of an endpoint's leaf and earliest-expiring
// chain certificate over time, drawn as two SVG polylines, the way the
// dashboard draws its timeline: geometry computed here, drawn by the
// template.
type daysChart struct {
	Width, Height, Base int
	// Leaf and Chain are SVG polyline points ("x,y x,y ...").
	Leaf, Chain string
	Points      []chartPoint
	Labels      []chartLabel
	// Max is the days at the top of the plot.
	Max     int
	Summary string
	Empty   bool
}

// chartPoint is one observed result, for hovering.
type chartPoint struct {
	X, Y  int
	Title string
}

// Geometry of the days-left chart, in SVG user units.
const (
	daysW      = 720
	daysPlotH  = 140
	daysTop    = 8
	daysMargin = 30
	daysAxisH  = 22
	daysLabels = 6
)

// daysLeftChart lays out the observed results (newest first, as the
// history gives them) from left (oldest) to right by time, scaled to the
// most days left; expired (negative) days sit on the axis.
func daysLeftChart(history []client.EndpointResult) daysChart {
	c := daysChart{Width: daysW, Height: daysTop + daysPlotH + daysAxisH, Base: daysTop + daysPlotH}
	var obs []client.EndpointResult
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Check.Error == "" && !history[i].LeafNotAfter.IsZero() {
			obs = append(obs, history[i])
		}
	}
	if len(obs) == 0 {
		c.Empty, c.Summary = true, "Days left: no observation yet."
		return c
	}
	c.Max = 1
	for _, r := range obs {
		c.Max = max(c.Max, r.Check.DaysLeft, r.ChainDaysLeft)
	}
	first, last := obs[0].Check.Time, obs[len(obs)-1].Check.Time
	span := max(last.Sub(first), time.Second)
	var leaf, chain []string
	for i, r := range obs {
		x := daysMargin + int(float64(daysW-2*daysMargin)*float64(r.Check.Time.Sub(first))/float64(span))
		if len(obs) == 1 {
			x = daysW / 2
		}
		ly, cy := c.y(r.Check.DaysLeft), c.y(r.ChainDaysLeft)
		leaf, chain = append(leaf, fmt.Sprintf("%d,%d", x, ly)), append(chain, fmt.Sprintf("%d,%d", x, cy))
		c.Points = append(c.Points, chartPoint{X: x, Y: ly, Title: fmt.Sprintf("%s: leaf %d days, chain %d days",
			r.Check.Time.UTC().Format("2006-01-02 15:04Z"), r.Check.DaysLeft, r.ChainDaysLeft)})
		if i%max(1, len(obs)/daysLabels) == 0 {
			c.Labels = append(c.Labels, chartLabel{X: x, Text: r.Check.Time.UTC().Format("Jan 2")})
		}
	}
	c.Leaf, c.Chain = strings.Join(leaf, " "), strings.Join(chain, " ")
	now := obs[len(obs)-1]
	c.Summary = fmt.Sprintf("Days left over %d observations: now %d for the leaf and %d for the earliest-expiring certificate of the chain.",
		len(obs), now.Check.DaysLeft, now.ChainDaysLeft)
	return c
}

// y is the plot height of days (0 at the axis, Max at the top).
func (c *daysChart) y(days int) int {
	days = min(max(days, 0), c.Max)
	return c.Base - days*daysPlotH/c.Max
}
