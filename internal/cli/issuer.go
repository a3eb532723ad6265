package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

// catalogueCommands are "issuer", "product" and "vendor-account".
func (a *app) catalogueCommands() []*cobra.Command {
	return []*cobra.Command{a.issuerCommand(), a.productCommand(), a.vendorAccountCommand()}
}

func (a *app) issuerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "issuer",
		Short: "Manage the issuers certificates come from: built-in CAs, vendors, ACME CAs",
	}
	cmd.AddCommand(a.issuerListCommand(), a.issuerAddCommand())
	return cmd
}

func (a *app) issuerAddCommand() *cobra.Command {
	var kind, url, notes string
	cmd := &cobra.Command{
		Use:   "add NAME --kind manual-vendor|acme [--url URL] [--notes TEXT]",
		Short: "Add an issuer (built-in CAs are listed by themselves)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				i, err := c.CreateIssuer(ctx, client.Issuer{Name: args[0], Kind: kind, URL: url, Notes: notes})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "added issuer %s (%s)\n", i.Name, i.Kind)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&kind, "kind", string(inventory.IssuerManualVendor), "manual-vendor or acme")
	cmd.Flags().StringVar(&url, "url", "", "the issuer's web site or ACME directory")
	cmd.Flags().StringVar(&notes, "notes", "", "free text")
	return cmd
}

func (a *app) issuerListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List issuers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				list, err := c.ListIssuers(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					v := issuerListView{Issuers: make([]issuerView, 0, len(list.Items))}
					for _, i := range list.Items {
						v.Issuers = append(v.Issuers, issuerView{ID: i.ID, Name: i.Name, Kind: i.Kind,
							CAID: i.CAID, URL: i.URL, Notes: i.Notes})
					}
					return writeJSON(a.env.Stdout, v)
				}
				writeIssuerList(a.env.Stdout, list.Items)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type issuerListView struct {
	Issuers []issuerView `json:"issuers"`
}

type issuerView struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	CAID  int64  `json:"ca_id,omitempty"`
	URL   string `json:"url,omitempty"`
	Notes string `json:"notes,omitempty"`
}

func writeIssuerList(w io.Writer, list []client.Issuer) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no issuers")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tKIND\tURL")
	for _, i := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", i.ID, i.Name, i.Kind, i.URL)
	}
	tw.Flush()
}

// issuerNamed returns the issuer called name from the API.
func issuerNamed(ctx context.Context, c *client.Client, name string) (*client.Issuer, error) {
	list, err := c.ListIssuers(ctx)
	if err != nil {
		return nil, err
	}
	return findIssuer(list.Items, name)
}

// findIssuer returns the issuer called name in list.
func findIssuer(list []client.Issuer, name string) (*client.Issuer, error) {
	for k := range list {
		if list[k].Name == name {
			return &list[k], nil
		}
	}
	return nil, fmt.Errorf("no issuer %q (see \"certkeeper issuer list\")", name)
}
