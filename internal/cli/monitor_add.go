package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

func (a *app) monitorAddCommand() *cobra.Command {
	var in client.EndpointAdd
	var asJSON bool
	cmd := &cobra.Command{
		Use: "add HOST:PORT [--servername NAME] [--starttls PROTO] [--client-cert ID] [--interval 6h] " +
			"[--certificate ID|--definition ID] [--label L] [--json]",
		Short: "Monitor a TLS endpoint (admins)",
		Long: "add watches HOST:PORT: it is checked at once, then every --interval (at least 1m) or, without\n" +
			"one, daily at the monitoring time. With --certificate or --definition the endpoint must serve\n" +
			"that certificate (or the definition's current one); without, any certificate is accepted and\n" +
			"the rest (chain, names, dates, revocation) is still judged.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Address = args[0]
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				e, err := c.AddEndpoint(ctx, in)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, e)
				}
				fmt.Fprintf(a.env.Stdout, "endpoint %d: %s is monitored (%s)\n", e.ID, e.Address, intervalText(e.Interval))
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.ServerName, "servername", "", "server name (SNI) to send; default the host")
	f.StringVar(&in.StartTLS, "starttls", "", "protocol to upgrade first: smtp, imap, pop3, ftp, ldap, xmpp, postgres, mysql or auto")
	f.Int64Var(&in.ClientCertificateID, "client-cert", 0, "certificate ID (with its key) to present to servers that demand mutual TLS")
	f.StringVar(&in.Interval, "interval", "", "time between checks, such as 6h (default: daily at the monitoring time)")
	f.Int64Var(&in.CertificateID, "certificate", 0, "certificate ID the endpoint must serve")
	f.Int64Var(&in.DefinitionID, "definition", 0, "definition ID whose current certificate the endpoint must serve")
	f.StringArrayVar(&in.Labels, "label", nil, "label (repeat for several)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	cmd.MarkFlagsMutuallyExclusive("certificate", "definition")
	return cmd
}
