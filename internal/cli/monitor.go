package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

// monitorCommand is `certkeeper monitor`: the TLS endpoints checked on a
// schedule. Everyone lists them and runs checks; adding and removing are
// for admins.
func (a *app) monitorCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Monitored TLS endpoints: add, list, show, history, run checks now, remove",
	}
	cmd.AddCommand(a.monitorAddCommand(), a.monitorListCommand(), a.monitorShowCommand(), a.monitorHistoryCommand(),
		a.monitorRunCommand(), a.monitorRemoveCommand())
	return cmd
}

func (a *app) monitorListCommand() *cobra.Command {
	var asJSON bool
	var f client.EndpointFilter
	cmd := &cobra.Command{
		Use:   "list [--status S] [--source S] [--q TEXT] [--json]",
		Short: "List the monitored endpoints with their latest results",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				l, err := c.ListEndpoints(ctx, f)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, l)
				}
				writeEndpoints(a.env.Stdout, l.Items)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&f.Status, "status", "", "ok, warning, failed or pending")
	cmd.Flags().StringVar(&f.Source, "source", "", "deployment, certificate, definition or manual")
	cmd.Flags().StringVar(&f.Q, "q", "", "text in the address, server name or labels")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// writeEndpoints prints one line per endpoint.
func writeEndpoints(w io.Writer, es []client.Endpoint) {
	if len(es) == 0 {
		fmt.Fprintln(w, "no monitored endpoints")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tADDRESS\tNAME\tSOURCE\tLEAF DAYS\tCHAIN DAYS\tLAST CHECK")
	for _, e := range es {
		leaf, chain, last := "-", "-", "-"
		if r := e.Last; r != nil {
			last = stamp(r.Check.Time)
			if r.Check.Error == "" {
				leaf, chain = fmt.Sprint(r.Check.DaysLeft), fmt.Sprint(r.ChainDaysLeft)
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Status, e.Address, orDash(e.ServerName),
			endpointSource(&e), leaf, chain, last)
	}
	tw.Flush()
}

func endpointSource(e *client.Endpoint) string {
	if e.SourceID == 0 {
		return e.Source
	}
	return fmt.Sprintf("%s %d", e.Source, e.SourceID)
}

func (a *app) monitorShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID [--json]",
		Short: "Show an endpoint and its latest result",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("endpoint", args[0])
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				e, err := c.GetEndpoint(ctx, id)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, e)
				}
				writeEndpoint(a.env.Stdout, e)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// writeEndpoint prints an endpoint and its latest result.
func writeEndpoint(w io.Writer, e *client.Endpoint) {
	fmt.Fprintf(w, "endpoint %d: %s (%s)\n", e.ID, e.Address, e.Status)
	fmt.Fprintf(w, "  server name:  %s\n", orDash(e.ServerName))
	fmt.Fprintf(w, "  STARTTLS:     %s\n", orDash(e.StartTLS))
	fmt.Fprintf(w, "  source:       %s\n", endpointSource(e))
	fmt.Fprintf(w, "  interval:     %s\n", intervalText(e.Interval))
	fmt.Fprintf(w, "  labels:       %s\n", orDash(strings.Join(e.Labels, ", ")))
	fmt.Fprintf(w, "  next check:   %s\n", stamp(e.NextCheckAt))
	if e.Failures > 0 {
		fmt.Fprintf(w, "  failures:     %d in a row\n", e.Failures)
	}
	if e.Last != nil {
		writeEndpointResult(w, e.Last)
	}
}

func intervalText(iv string) string {
	if iv == "" || iv == "0s" {
		return "daily"
	}
	return iv
}

// writeEndpointResult prints one result with its problems.
func writeEndpointResult(w io.Writer, r *client.EndpointResult) {
	fmt.Fprintf(w, "  checked %s: %s\n", stamp(r.Check.Time), r.Status)
	if r.Check.Error != "" {
		fmt.Fprintf(w, "    error: %s\n", r.Check.Error)
		return
	}
	fmt.Fprintf(w, "    served:  %s (SHA-256 %s)\n", r.Check.ServedSubject, r.Check.ServedSHA256)
	fmt.Fprintf(w, "    leaf:    expires %s, %d days left\n", stamp(r.LeafNotAfter), r.Check.DaysLeft)
	fmt.Fprintf(w, "    chain:   earliest expiry %s, %d days left (%d certificates)\n", stamp(r.ChainNotAfter),
		r.ChainDaysLeft, len(r.ChainSHA256))
	if r.Check.Protocol != "" {
		fmt.Fprintf(w, "    TLS:     %s %s\n", r.Check.Protocol, r.Check.CipherSuite)
	}
	if r.Check.Revocation != "" {
		fmt.Fprintf(w, "    revocation: %s\n", r.Check.Revocation)
	}
	for _, p := range r.Check.Problems {
		fmt.Fprintf(w, "    problem: %s\n", p)
	}
}

func (a *app) monitorHistoryCommand() *cobra.Command {
	var asJSON bool
	var p client.Page
	cmd := &cobra.Command{
		Use:   "history ID [--limit N] [--after CURSOR] [--json]",
		Short: "List an endpoint's results, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("endpoint", args[0])
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				h, err := c.GetEndpointHistory(ctx, id, p)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, h)
				}
				writeHistory(a.env.Stdout, h)
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&p.Limit, "limit", 0, "results per page (default 100)")
	cmd.Flags().StringVar(&p.After, "after", "", "the cursor printed after the previous page")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeHistory(w io.Writer, h *client.EndpointHistory) {
	if len(h.Items) == 0 {
		fmt.Fprintln(w, "no results yet")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSTATUS\tLEAF DAYS\tCHAIN DAYS\tSERVED SHA-256\tPROBLEM")
	for _, r := range h.Items {
		problem := r.Check.Error
		if problem == "" && len(r.Check.Problems) > 0 {
			problem = r.Check.Problems[0]
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", stamp(r.Check.Time), r.Status, r.Check.DaysLeft, r.ChainDaysLeft,
			orDash(shortHash(r.Check.ServedSHA256)), orDash(problem))
	}
	tw.Flush()
	if h.Next != "" {
		fmt.Fprintf(w, "more: --after %s\n", h.Next)
	}
}

func shortHash(h string) string {
	if len(h) > 16 {
		return h[:16]
	}
	return h
}

func (a *app) monitorRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "remove ID",
		Short: "Stop monitoring an endpoint and drop its history (admins; not a deployment's endpoint)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("endpoint", args[0])
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.RemoveEndpoint(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "endpoint %d is no longer monitored\n", id)
				return nil
			})
		},
	}
}
