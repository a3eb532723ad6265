package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

// digestCommand previews the daily digest and, with "send", sends it now
// (docs/alerts.md, "The daily digest").
func (a *app) digestCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "digest [--json]",
		Short: "Show the daily digest as it would be sent now (what needs action, what changed); sends nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := c.PreviewDigest(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, d)
				}
				fmt.Fprintf(a.env.Stdout, "%s\n\n%s", d.Subject, d.Text)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(a.digestSendCommand())
	return cmd
}

func (a *app) digestSendCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "send [--json]",
		Short: "Send the digest now to the admin e-mail and the digest channels (admins; audited), unless there is nothing to say",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				res, err := c.SendDigest(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, res)
				}
				if !res.Sent {
					fmt.Fprintf(a.env.Stdout, "digest not sent: %s\n", res.Reason)
					return nil
				}
				fmt.Fprintf(a.env.Stdout, "digest sent: %s\n", res.Digest.Subject)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
