package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

// jobsCommand shows the scheduler's background jobs, their history, and
// runs one at once (docs/scheduler.md). The jobs live in the inventory:
// without --server the command reads them there, and a run-now request
// is served by the running "certkeeper serve" that leads.
func (a *app) jobsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "Show the background jobs of a running certkeeper (schedule, last and next run, leader), run one now",
	}
	cmd.AddCommand(a.jobsListCommand(), a.jobsRunCommand(), a.jobsHistoryCommand())
	return cmd
}

func (a *app) jobsListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List every background job: schedule, next run, last run and its result, and the leader",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				list, err := c.ListJobs(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, list)
				}
				return writeJobs(a.env.Stdout, list)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) jobsRunCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "run KIND",
		Short: "Run a background job at once (admins): the leader runs a shared job, its instance a per-instance one",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.RunJob(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "job %s requested; \"certkeeper jobs history %s\" shows its run\n", args[0], args[0])
				return nil
			})
		},
	}
}

func (a *app) jobsHistoryCommand() *cobra.Command {
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "history KIND [--limit N] [--json]",
		Short: "Show a background job's recent runs, newest first: slot, instance, result, duration",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				runs, err := c.JobRuns(ctx, args[0], limit)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, runs)
				}
				return writeJobRuns(a.env.Stdout, runs)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().IntVar(&limit, "limit", 0, "runs to show, 1 to 200 (default 50)")
	return cmd
}

func writeJobs(w io.Writer, l *client.JobList) error {
	leader := orDash(l.Leader)
	if l.Leader != "" && !l.LeaderAlive {
		leader += " (lease expired)"
	}
	fmt.Fprintf(w, "leader: %s   answered by: %s\n", leader, l.Instance)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tSCHEDULE\tNEXT RUN\tLAST START\tRESULT\tDURATION\tSTATE")
	for _, j := range l.Jobs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", j.Kind, orDash(j.Schedule), stampPtr(j.NextRun),
			stampPtr(j.LastStarted), orDash(j.LastResult), duration(j.LastDurationMS), jobState(j))
	}
	return tw.Flush()
}

// jobState says whether a job runs, waits for a request or retries.
func jobState(j client.Job) string {
	switch {
	case j.Running:
		return "running on " + j.RunningOn
	case j.Requested:
		return "requested"
	case j.Attempts > 0:
		return fmt.Sprintf("retrying after %d failures: %s", j.Attempts, j.LastError)
	}
	return "-"
}

func writeJobRuns(w io.Writer, l *client.JobRunList) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLOT\tINSTANCE\tSTARTED\tFINISHED\tRESULT\tDURATION\tERROR")
	for _, r := range l.Runs {
		result := r.Result
		if r.Finished == nil {
			result = "unfinished"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Slot.UTC().Format(time.RFC3339), r.Instance,
			r.Started.UTC().Format(time.RFC3339), stampPtr(r.Finished), result, duration(r.DurationMS), orDash(r.Error))
	}
	return tw.Flush()
}

func stampPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func duration(ms int64) string { return (time.Duration(ms) * time.Millisecond).String() }
