package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

// trustCommand is `certkeeper trust`: the trust store that uploads and
// deploy checks judge chains against. Everyone reads it; marking roots
// and the system-roots switch are for admins.
func (a *app) trustCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "Show or change the trust store (the roots uploads and deploy checks trust)",
	}
	cmd.AddCommand(a.trustListCommand(), a.trustAddCommand(), a.trustRemoveCommand(), a.trustSystemRootsCommand())
	return cmd
}

func (a *app) trustListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the trusted roots and whether the system roots are trusted",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				ts, err := c.GetTrustStore(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, ts)
				}
				writeTrustStore(a.env.Stdout, ts)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// writeTrustStore prints the switch and one line per root.
func writeTrustStore(w io.Writer, ts *client.TrustStore) {
	fmt.Fprintf(w, "system roots: %s\n", onOff(ts.SystemRoots))
	if len(ts.Roots) == 0 {
		fmt.Fprintln(w, "no trusted roots in the inventory")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSUBJECT\tEXPIRES\tSOURCE\tADDED BY\tADDED")
	for _, r := range ts.Roots {
		source := "marked"
		if r.Source == "ca" {
			source = "CA " + r.CA
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Certificate.ID, r.Certificate.Subject,
			r.Certificate.NotAfter.UTC().Format("2006-01-02"), source, orDash(r.AddedBy), stamp(r.AddedAt))
	}
	tw.Flush()
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func (a *app) trustAddCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "add CERT-ID",
		Short: "Mark a self-signed CA certificate of the inventory as a trusted root (admins)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("certificate", args[0])
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				r, err := c.AddTrustRoot(ctx, id)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "certificate %d (%s) is a trusted root\n", id, r.Certificate.Subject)
				return nil
			})
		},
	}
}

func (a *app) trustRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "remove CERT-ID",
		Short: "Stop trusting a root an admin marked (admins)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("certificate", args[0])
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.RemoveTrustRoot(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "certificate %d is no longer a trusted root\n", id)
				return nil
			})
		},
	}
}

func (a *app) trustSystemRootsCommand() *cobra.Command {
	return &cobra.Command{
		Use:       "system-roots on|off",
		Short:     "Trust the operating system's roots, or not (admins)",
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"on", "off"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				ts, err := c.SetSystemRoots(ctx, args[0] == "on")
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "system roots: %s\n", onOff(ts.SystemRoots))
				return nil
			})
		},
	}
}
