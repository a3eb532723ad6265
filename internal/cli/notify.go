package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

// notifyCommand keeps the notification channels: webhooks, Slack, Teams,
// PagerDuty and ntfy (docs/notifications.md).
func (a *app) notifyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Keep the notification channels (webhook, Slack, Teams, PagerDuty, ntfy) and see what was sent",
	}
	cmd.AddCommand(a.notifyAddCommand(), a.notifyListCommand(), a.notifyTestCommand(), a.notifyRemoveCommand(),
		a.notifySentCommand())
	return cmd
}

func (a *app) notifyAddCommand() *cobra.Command {
	var in client.ChannelInput
	var secretFile string
	cmd := &cobra.Command{
		Use:   "add --name NAME --webhook URL [--secret-file F] [--format generic|slack|teams|pagerduty|ntfy]",
		Short: "Add a notification channel (admins)",
		Long: "Add a notification channel. The secret, read from the first line of --secret-file (- for\n" +
			"standard input), is the HMAC key that signs a generic webhook, the routing key of a PagerDuty\n" +
			"integration (required), or the bearer token of an ntfy topic; Slack and Teams take none.\n" +
			"A PagerDuty channel's --webhook defaults to https://events.pagerduty.com/v2/enqueue.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if secretFile != "" {
				s, err := a.readSecretFile(secretFile, false)
				if err != nil {
					return fmt.Errorf("--secret-file: %w", err)
				}
				in.Secret = s
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				ch, err := c.AddChannel(ctx, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "added channel %s (%s, %s, secret %s)\n", ch.Name, ch.Format, ch.URL,
					map[bool]string{true: "set", false: "none"}[ch.SecretSet])
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Name, "name", "", "the channel's name (letters, digits, '.', '_', '-')")
	f.StringVar(&in.URL, "webhook", "", "the http(s) URL messages are posted to")
	f.StringVar(&in.Format, "format", "generic", "generic, slack, teams, pagerduty or ntfy")
	f.StringVar(&secretFile, "secret-file", "", "read the secret from the first line of this file (- for standard input)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func (a *app) notifyTestCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "test NAME",
		Short: "Send a test notification on a channel (admins); fails when it is not delivered",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				n, err := c.TestChannel(ctx, args[0])
				if err != nil {
					return err
				}
				if n.Status != "sent" {
					return fmt.Errorf("test notification on %s failed after %d attempt(s): %s", n.Channel, n.Attempts, n.Error)
				}
				fmt.Fprintf(a.env.Stdout, "test notification sent on %s (HTTP %d, %d attempt(s))\n", n.Channel, n.HTTPStatus, n.Attempts)
				return nil
			})
		},
	}
}

func (a *app) notifyRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a notification channel (admins); what was sent on it stays listed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.RemoveChannel(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "removed channel %s\n", args[0])
				return nil
			})
		},
	}
}
