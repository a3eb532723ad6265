package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/alert"
)

// alertCommand is `certkeeper alert`: alerts, their rules and their
// routing. Everyone lists and acknowledges alerts; silencing and rule
// and routing changes are for admins.
func (a *app) alertCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alert",
		Short: "List, acknowledge and silence alerts; show and change alert rules and routing",
	}
	cmd.AddCommand(a.alertListCommand(), a.alertShowCommand(), a.alertAckCommand(), a.alertSilenceCommand(),
		a.alertRulesCommand(), a.alertRuleCommand(), a.alertRoutesCommand(), a.alertRouteCommand())
	return cmd
}

func (a *app) alertListCommand() *cobra.Command {
	var state string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--state open|firing|acknowledged|silenced|resolved] [--json]",
		Short: "List alerts, newest first (open ones by default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				var all []client.Alert
				q := client.AlertQuery{State: state}
				for {
					l, err := c.ListAlerts(ctx, q)
					if err != nil {
						return err
					}
					all = append(all, l.Items...)
					if l.Next == "" {
						break
					}
					q.After = l.Next
				}
				if asJSON {
					return writeJSON(a.env.Stdout, all)
				}
				writeAlerts(a.env.Stdout, all)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&state, "state", "open", `open, firing, acknowledged, silenced, resolved, or "" for all`)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeAlerts(w io.Writer, l []client.Alert) {
	if len(l) == 0 {
		fmt.Fprintln(w, "no alerts")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tSTATE\tRULE\tSUBJECT\tFIRED\tSUMMARY")
	for _, al := range l {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", al.ID, al.Severity, al.State, al.Rule, al.SubjectName,
			stamp(al.FiredAt), al.Summary)
	}
	tw.Flush()
}

func (a *app) alertShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ALERT-ID [--json]",
		Short: "Show one alert",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("alert", args[0])
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				al, err := c.GetAlert(ctx, id)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, al)
				}
				writeAlert(a.env.Stdout, al)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeAlert(w io.Writer, al *client.Alert) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	row("Alert", fmt.Sprint(al.ID))
	row("Rule", al.Rule)
	row("Subject", al.SubjectName+" ("+al.Subject+")")
	row("Severity", al.Severity)
	row("State", al.State)
	row("Summary", al.Summary)
	row("Fired", stamp(al.FiredAt))
	row("Notified", fmt.Sprintf("%d times, last %s", al.Notifications, stamp(al.LastNotifiedAt)))
	if al.AckBy != "" {
		row("Acknowledged", fmt.Sprintf("by %s at %s: %s", al.AckBy, stamp(al.AckAt), al.AckReason))
	}
	if al.SilencedBy != "" {
		row("Silenced", fmt.Sprintf("by %s until %s: %s", al.SilencedBy, stamp(al.SilencedUntil), al.SilenceReason))
	}
	if !al.ResolvedAt.IsZero() {
		row("Resolved", stamp(al.ResolvedAt))
	}
	tw.Flush()
}

func (a *app) alertAckCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "ack ALERT-ID --reason TEXT",
		Short: "Acknowledge an alert: it stops repeating until it resolves or gets worse",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("alert", args[0])
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				al, err := c.AcknowledgeAlert(ctx, id, reason)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "alert %d (%s on %s) acknowledged\n", al.ID, al.Rule, al.SubjectName)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, or what is being done (required)")
	return cmd
}

func (a *app) alertSilenceCommand() *cobra.Command {
	var reason, until string
	cmd := &cobra.Command{
		Use:   "silence ALERT-ID --reason TEXT --until DURATION|TIME",
		Short: "Silence an alert until a time, e.g. --until 3d or --until 2026-06-02T08:00:00Z (admins)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("alert", args[0])
			if err != nil {
				return err
			}
			end, err := alert.ParseUntil(until, time.Now())
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				al, err := c.SilenceAlert(ctx, id, reason, end)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "alert %d (%s on %s) silenced until %s\n", al.ID, al.Rule, al.SubjectName, stamp(al.SilencedUntil))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required)")
	cmd.Flags().StringVar(&until, "until", "", "a duration (36h, 3d), an RFC 3339 time or a date (required)")
	return cmd
}

func (a *app) alertRulesCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rules [--json]",
		Short: "List the alert rules as they apply now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				l, err := c.ListAlertRules(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, l.Items)
				}
				writeAlertRules(a.env.Stdout, l.Items)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeAlertRules(w io.Writer, l []client.AlertRule) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tENABLED\tSETTINGS\tREPEAT\tCHANNELS\tCHANGED BY")
	for _, r := range l {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, yesNo(r.Enabled), ruleSettings(r),
			repeatText(r.RepeatSeconds), orDash(strings.Join(r.Channels, ",")), orDash(r.UpdatedBy))
	}
	tw.Flush()
}

// ruleSettings words the thresholds of a rule.
func ruleSettings(r client.AlertRule) string {
	switch r.Thresholds {
	case alert.ThresholdExpiry:
		return fmt.Sprintf("warn <%dd or %.2g of life, critical <%dd or %.2g", r.WarnDays, r.WarnFraction,
			r.CriticalDays, r.CriticalFraction)
	case alert.ThresholdRuns:
		return fmt.Sprintf("%s after %d runs", r.Severity, r.Threshold)
	case alert.ThresholdDays:
		return fmt.Sprintf("%s after %d days", r.Severity, r.Threshold)
	}
	return r.Severity
}

func repeatText(s int64) string {
	if s == 0 {
		return "never"
	}
	return (time.Duration(s) * time.Second).String()
}
