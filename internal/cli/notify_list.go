package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

func (a *app) notifyListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the notification channels (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				list, err := c.ListChannels(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, list)
				}
				return writeChannels(a.env.Stdout, list.Items)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeChannels(w io.Writer, items []client.Channel) error {
	if len(items) == 0 {
		_, err := fmt.Fprintln(w, "no notification channels; add one with: certkeeper notify add --name NAME --webhook URL")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFORMAT\tURL\tSECRET\tADDED\tBY")
	for _, c := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Format, c.URL,
			map[bool]string{true: "set", false: "-"}[c.SecretSet], stamp(c.CreatedAt), orDash(c.CreatedBy))
	}
	return tw.Flush()
}

func (a *app) notifySentCommand() *cobra.Command {
	var asJSON bool
	var p client.Page
	cmd := &cobra.Command{
		Use:   "sent [--json] [--limit N] [--after CURSOR]",
		Short: "List the notifications sent or tried on channels, newest first (admins)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				list, err := c.ListNotifications(ctx, p)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, list)
				}
				return writeNotifications(a.env.Stdout, list)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.IntVar(&p.Limit, "limit", 0, "page size (default 100)")
	f.StringVar(&p.After, "after", "", "the cursor printed after the previous page")
	return cmd
}

func writeNotifications(w io.Writer, list *client.NotificationList) error {
	if len(list.Items) == 0 {
		_, err := fmt.Fprintln(w, "no notifications sent")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCHANNEL\tKIND\tSTATUS\tATTEMPTS\tHTTP\tSUBJECT\tERROR")
	for _, n := range list.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", stamp(n.Time), n.Channel, n.Kind, n.Status,
			n.Attempts, n.HTTPStatus, n.Subject, orDash(n.Error))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if list.Next != "" {
		_, err := fmt.Fprintf(w, "more: --after %s\n", list.Next)
		return err
	}
	return nil
}
