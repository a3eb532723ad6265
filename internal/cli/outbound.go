package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

// outboundCommand shows and sets the outbound policy: where certkeeper
// may connect on someone's behalf (docs/outbound.md).
func (a *app) outboundCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "outbound",
		Short: "Show or set where certkeeper may connect on someone's behalf (checks, OCSP, SSH, SMTP)",
	}
	cmd.AddCommand(a.outboundShowCommand(), a.outboundSetCommand())
	return cmd
}

func (a *app) outboundShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [--json]",
		Short: "Show the outbound policy in force",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				p, err := c.GetOutboundPolicy(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, p)
				}
				writeOutbound(a.env.Stdout, p)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// outboundSet holds the flags of "outbound set".
type outboundSet struct {
	allow, deny []string
	clear       bool
}

func (a *app) outboundSetCommand() *cobra.Command {
	var o outboundSet
	cmd := &cobra.Command{
		Use:   "set (--allow RULE | --deny RULE)... | --clear",
		Short: "Replace the outbound policy (admins); in force at once",
		Long: "Replace the outbound policy with the rules given; the lists not given become empty.\n" +
			"A RULE is a network with optional ports: 10.0.0.0/8, 10.1.2.3, 10.0.0.0/8:443,8443,\n" +
			"192.168.0.0/16:8000-8100, fd00::/8, [fd00::/8]:443. A deny rule wins over any allow rule;\n" +
			"no allow rule means everywhere not denied. Link-local and cloud metadata addresses are\n" +
			"always refused. --clear goes back to the default (everything but those).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				p, err := c.SetOutboundPolicy(ctx, client.OutboundPolicy{Allow: o.allow, Deny: o.deny})
				if err != nil {
					return err
				}
				writeOutbound(a.env.Stdout, p)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.allow, "allow", nil, "a network (and ports) connections may go to (repeatable)")
	f.StringArrayVar(&o.deny, "deny", nil, "a network (and ports) connections may not go to (repeatable)")
	f.BoolVar(&o.clear, "clear", false, "remove every rule: allow everything but the built-in denials")
	return cmd
}

// check refuses a set that says nothing, or both rules and --clear, so
// that a policy is never emptied by mistake.
func (o *outboundSet) check() error {
	rules := len(o.allow)+len(o.deny) > 0
	switch {
	case o.clear && rules:
		return errors.New("--clear removes every rule: give it alone, or give --allow and --deny rules without it")
	case !o.clear && !rules:
		return errors.New("give --allow and --deny rules, or --clear to remove every rule")
	}
	return nil
}

// writeOutbound prints the policy, one rule a line.
func writeOutbound(w io.Writer, p *client.OutboundPolicy) {
	allow := "everything not denied"
	if len(p.Allow) > 0 {
		allow = strings.Join(p.Allow, "\n  ")
	}
	deny := "nothing else"
	if len(p.Deny) > 0 {
		deny = strings.Join(p.Deny, "\n  ")
	}
	fmt.Fprintf(w, "allow:\n  %s\ndeny:\n  %s\nalways denied:\n  %s\n", allow, deny, strings.Join(p.BuiltinDenied, "\n  "))
}
