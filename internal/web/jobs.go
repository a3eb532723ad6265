package web

import (
	"net/http"
	"net/url"

	"github.com/certkeeper/certkeeper/client"
)

// jobRoutes: the Monitor Control screen, the scheduler's background jobs
// (run-now for admins).
func (ui *UI) jobRoutes() []route {
	return []route{
		{"GET", "/jobs", user, ui.jobsPage},
		{"POST", "/jobs/{kind}/run", admin, ui.runJob},
	}
}

// jobsData fills the Monitor Control page: every job, the leader, and
// the recent runs of the job chosen with ?runs=KIND (the first one by
// default).
type jobsData struct {
	List *client.JobList
	// RunsOf names the job whose runs are listed.
	RunsOf string
	Runs   []client.JobRun
}

// jobRunsShown is how many recent runs the page lists.
const jobRunsShown = 20

func (ui *UI) jobsPage(w http.ResponseWriter, r *http.Request) error {
	list, err := ui.api.ListJobs(r.Context())
	if err != nil {
		return err
	}
	d := jobsData{List: list, RunsOf: r.URL.Query().Get("runs")}
	if d.RunsOf == "" && len(list.Jobs) > 0 {
		d.RunsOf = list.Jobs[0].Kind
	}
	if d.RunsOf != "" {
		runs, err := ui.api.JobRuns(r.Context(), d.RunsOf, jobRunsShown)
		if err != nil {
			return err
		}
		d.Runs = runs.Runs
	}
	ui.render(w, r, page{name: "jobs", title: "Monitor Control", section: "jobs", data: d})
	return nil
}

// runJob asks for a run of the job now and goes back to the page, showing
// that job's runs.
func (ui *UI) runJob(w http.ResponseWriter, r *http.Request) error {
	kind := r.PathValue("kind")
	if err := ui.api.RunJob(r.Context(), kind); err != nil {
		return err
	}
	redirect(w, r, "/jobs?runs="+url.QueryEscape(kind), "Job "+kind+" requested; it runs within a few seconds.")
	return nil
}
