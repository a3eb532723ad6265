package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

func (a *app) acquisitionApproveCommand() *cobra.Command {
	var asJSON bool
	cmd := a.acquisitionIDCommand("approve ID", "Approve a request waiting for approval: the CA issues it (admin, not the requester)",
		func(ctx context.Context, c *client.Client, id int64) error {
			v, err := c.Approve(ctx, id)
			if err != nil {
				return err
			}
			return a.printValidation(ctx, c, v, asJSON)
		})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) acquisitionRejectCommand() *cobra.Command {
	var reason string
	var asJSON bool
	cmd := a.acquisitionIDCommand("reject ID --reason TEXT", "Reject a request waiting for approval, saying why (admin, not the requester)",
		func(ctx context.Context, c *client.Client, id int64) error {
			p, err := c.Reject(ctx, id, reason)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.env.Stdout, p)
			}
			fmt.Fprintf(a.env.Stdout, "rejected the request of acquisition %d of %s; the process is cancelled\n", p.ID,
				first(p.Definition, newAPINames(c).definition(ctx, p.DefinitionID)))
			return nil
		})
	cmd.Flags().StringVar(&reason, "reason", "", "why the request is rejected (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}
