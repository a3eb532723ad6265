package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func (a *app) auditCommand() *cobra.Command {
	var since string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "audit [--since 24h] [--limit N] [--json]",
		Short: "Show the most recent audit events, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return fmt.Errorf("--limit must be at least 1")
			}
			from, err := a.auditSince(since)
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				events, err := lastAudit(ctx, c, from, limit)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, newAuditView(events))
				}
				writeAudit(a.env.Stdout, events)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&since, "since", "", "only events this recent, e.g. 24h or 7d (default all)")
	f.IntVar(&limit, "limit", 100, "show at most this many of the latest events")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// auditSince turns --since into a start time; "" is the zero time (all).
func (a *app) auditSince(since string) (time.Time, error) {
	if since == "" {
		return time.Time{}, nil
	}
	d, err := parseDays(since)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since: %w", err)
	}
	return a.env.Now().UTC().Add(-d), nil
}

// lastAudit pages through the events from since and keeps the last n.
func lastAudit(ctx context.Context, c *client.Client, since time.Time, n int) ([]client.AuditEvent, error) {
	var out []client.AuditEvent
	q := client.AuditQuery{Since: since, Page: client.Page{Limit: inventory.MaxPageSize}}
	for {
		page, err := c.ListAudit(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if len(out) > n {
			out = append(out[:0], out[len(out)-n:]...)
		}
		if page.Next == "" {
			return out, nil
		}
		q.After = page.Next
	}
}

type auditView struct {
	Events []auditEventView `json:"events"`
}

type auditEventView struct {
	ID      int64     `json:"id"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Object  string    `json:"object"`
	Summary string    `json:"summary"`
}

func newAuditView(events []client.AuditEvent) auditView {
	v := auditView{Events: make([]auditEventView, 0, len(events))}
	for _, e := range events {
		v.Events = append(v.Events, auditEventView{ID: e.ID, Time: e.Time, Actor: e.Actor, Action: e.Action,
			Object: e.Object, Summary: e.Summary})
	}
	return v
}

func writeAudit(w io.Writer, events []client.AuditEvent) {
	if len(events) == 0 {
		fmt.Fprintln(w, "no audit events")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTOR\tACTION\tOBJECT\tSUMMARY")
	for _, e := range events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339), e.Actor, e.Action, e.Object, e.Summary)
	}
	tw.Flush()
}
