package api

import (
	"net/http"
	"time"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// dashboardRoutes: counts, the expiry timeline and the stuck processes.
func (a *API) dashboardRoutes() []route {
	return []route{
		{method: "GET", pattern: "/api/v1/dashboard", op: "getDashboard", role: user, out: typeOf[client.Dashboard](),
			summary: "Certificate counts, the 90-day expiry timeline and the processes to look at", handle: a.getDashboard},
	}
}

// getDashboard answers the dashboard's figures (see package dashboard).
func (a *API) getDashboard(w http.ResponseWriter, r *http.Request) error {
	f, err := a.Dashboard.Figures(r.Context())
	if err != nil {
		return err
	}
	out := client.Dashboard{At: f.At, Timeline: make([]client.TimelineDay, len(f.Timeline)),
		Counts: client.DashboardCounts{Valid: f.ByStatus[inventory.StatusValid], Expired: f.ByStatus[inventory.StatusExpired],
			NotYetValid: f.ByStatus[inventory.StatusNotYetValid], Revoked: f.ByStatus[inventory.StatusRevoked],
			Expiring30: f.Expiring30},
		Definitions: f.Definitions, OpenAcquisitions: f.OpenAcquisitions, Attention: f.Attention,
		PendingApproval: f.PendingApproval, Stuck: make([]client.StuckAcquisition, len(f.Stuck))}
	for i, d := range f.Timeline {
		out.Timeline[i] = client.TimelineDay{Date: d.Date.Format(time.DateOnly), Count: d.Count}
	}
	for i, s := range f.Stuck {
		out.Stuck[i] = client.StuckAcquisition{Acquisition: acquisitionOut(&s.Acquisition), Since: s.Since,
			Days: s.Days, Reason: s.Reason}
	}
	return ok(w, out)
}
