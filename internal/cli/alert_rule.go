package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

// ruleFlags are the flags of `alert rule`; only those given change.
type ruleFlags struct {
	enabled                    bool
	severity                   string
	warnDays, criticalDays     int
	warnFraction, criticalFrac float64
	threshold                  int
	repeat                     time.Duration
	channels                   []string
	reset                      bool
}

func (a *app) alertRuleCommand() *cobra.Command {
	var f ruleFlags
	cmd := &cobra.Command{
		Use:   "rule NAME [--enabled=false] [--warn-days N] [--critical-days N] [--warn-fraction F] [--critical-fraction F] [--threshold N] [--severity S] [--repeat DURATION] [--channels A,B] [--reset]",
		Short: "Change an alert rule; flags not given are left alone (admins)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ch := f.change(cmd)
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				r, err := c.UpdateAlertRule(ctx, args[0], ch)
				if err != nil {
					return err
				}
				writeAlertRules(a.env.Stdout, []client.AlertRule{*r})
				return nil
			})
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&f.enabled, "enabled", true, "whether the rule fires")
	fs.StringVar(&f.severity, "severity", "", "info, warning or critical (rules without expiry thresholds)")
	fs.IntVar(&f.warnDays, "warn-days", 0, "warn when fewer days are left (expiry rules)")
	fs.IntVar(&f.criticalDays, "critical-days", 0, "critical when fewer days are left (expiry rules)")
	fs.Float64Var(&f.warnFraction, "warn-fraction", 0, "warn when less of the lifetime is left, if sooner (0 turns it off)")
	fs.Float64Var(&f.criticalFrac, "critical-fraction", 0, "critical when less of the lifetime is left, if sooner")
	fs.IntVar(&f.threshold, "threshold", 0, "runs in a row (endpoint-unreachable) or days (stuck rules)")
	fs.DurationVar(&f.repeat, "repeat", 0, "time between repeats of an unacknowledged alert (0: never)")
	fs.StringSliceVar(&f.channels, "channels", nil, `channels the rule's notices go to ("" for none)`)
	fs.BoolVar(&f.reset, "reset", false, "put the rule back to its default first")
	return cmd
}

// change is the rule change the given flags ask for.
func (f *ruleFlags) change(cmd *cobra.Command) client.AlertRuleChange {
	ch := client.AlertRuleChange{Reset: f.reset}
	set := cmd.Flags().Changed
	if set("enabled") {
		ch.Enabled = &f.enabled
	}
	if set("severity") {
		ch.Severity = &f.severity
	}
	if set("warn-days") {
		ch.WarnDays = &f.warnDays
	}
	if set("critical-days") {
		ch.CriticalDays = &f.criticalDays
	}
	if set("warn-fraction") {
		ch.WarnFraction = &f.warnFraction
	}
	if set("critical-fraction") {
		ch.CriticalFraction = &f.criticalFrac
	}
	if set("threshold") {
		ch.Threshold = &f.threshold
	}
	if set("repeat") {
		s := int64(f.repeat / time.Second)
		ch.RepeatSeconds = &s
	}
	if set("channels") {
		ch.Channels = &f.channels
	}
	return ch
}

func (a *app) alertRoutesCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "routes [--json]",
		Short: "Show which channels each label's alerts go to",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				r, err := c.GetAlertRoutes(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, r)
				}
				writeRoutes(a.env.Stdout, r.Routes)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeRoutes(w interface{ Write([]byte) (int, error) }, routes map[string][]string) {
	if len(routes) == 0 {
		fmt.Fprintln(w, "no label routes")
		return
	}
	labels := make([]string, 0, len(routes))
	for l := range routes {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		fmt.Fprintf(w, "%s -> %s\n", l, strings.Join(routes[l], ", "))
	}
}

func (a *app) alertRouteCommand() *cobra.Command {
	var channels []string
	cmd := &cobra.Command{
		Use:   "route LABEL --channels A,B",
		Short: `Send the alerts of subjects labelled LABEL to channels (--channels "" removes the route; admins)`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				r, err := c.GetAlertRoutes(ctx)
				if err != nil {
					return err
				}
				if r.Routes == nil {
					r.Routes = map[string][]string{}
				}
				r.Routes[args[0]] = channels
				if r, err = c.SetAlertRoutes(ctx, *r); err != nil {
					return err
				}
				writeRoutes(a.env.Stdout, r.Routes)
				return nil
			})
		},
	}
	cmd.Flags().StringSliceVar(&channels, "channels", nil, "channel names, comma-separated")
	return cmd
}
