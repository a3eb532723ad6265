package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func (a *app) productCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "product",
		Short: "Manage the products issuers offer, and select those that fit a certificate",
	}
	cmd.AddCommand(a.productAddCommand(), a.productListCommand(), a.productSelectCommand())
	return cmd
}

func (a *app) productAddCommand() *cobra.Command {
	var issuer, level string
	var p client.Product
	cmd := &cobra.Command{
		Use:   "add --issuer NAME --name P --level DV|OV|EV [--wildcard] [--max-names N] [--max-days N]",
		Short: "Add a product to an issuer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				i, err := issuerNamed(ctx, c, issuer)
				if err != nil {
					return err
				}
				p.ValidationLevel = string(parseLevel(level))
				got, err := c.CreateProduct(ctx, i.ID, p)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "added product %s of %s (%s)\n", got.Name, issuer, got.ValidationLevel)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&issuer, "issuer", "", "the issuer's name (required)")
	f.StringVar(&p.Name, "name", "", "the product's name (required)")
	f.StringVar(&level, "level", "", "validation level: DV, OV or EV (required)")
	f.BoolVar(&p.Wildcard, "wildcard", false, "the product issues wildcard names")
	f.IntVar(&p.MaxNames, "max-names", 0, "most names per certificate; 0 means no limit")
	f.IntVar(&p.MaxValidityDays, "max-days", 0, "longest validity in days; 0 means no limit")
	f.StringVar(&p.URL, "url", "", "the product's web page")
	f.StringVar(&p.Notes, "notes", "", "free text")
	for _, name := range []string{"issuer", "name", "level"} {
		cmd.MarkFlagRequired(name)
	}
	return cmd
}

func (a *app) productListCommand() *cobra.Command {
	var issuer string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--issuer NAME] [--json]",
		Short: "List products",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				matches, err := products(ctx, c, issuer)
				if err != nil {
					return err
				}
				return a.writeProducts(matches, asJSON)
			})
		},
	}
	cmd.Flags().StringVar(&issuer, "issuer", "", "only this issuer's products")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// products lists the products of the issuer called issuer, or of every
// issuer when it is "", in ID order, each with its issuer.
func products(ctx context.Context, c *client.Client, issuer string) ([]client.ProductMatch, error) {
	issuers, err := c.ListIssuers(ctx)
	if err != nil {
		return nil, err
	}
	list := issuers.Items
	if issuer != "" {
		i, err := findIssuer(list, issuer)
		if err != nil {
			return nil, err
		}
		list = []client.Issuer{*i}
	}
	var out []client.ProductMatch
	for _, i := range list {
		ps, err := c.ListProducts(ctx, i.ID)
		if err != nil {
			return nil, err
		}
		for _, p := range ps.Items {
			out = append(out, client.ProductMatch{Issuer: i, Product: p})
		}
	}
	slices.SortFunc(out, func(x, y client.ProductMatch) int { return cmp.Compare(x.Product.ID, y.Product.ID) })
	return out, nil
}

func (a *app) productSelectCommand() *cobra.Command {
	var q client.ProductQuery
	var level string
	var asJSON bool
	cmd := &cobra.Command{
		Use: "select [--level DV|OV|EV|private] [--wildcard] [--names N] [--days N] [--issuer NAME] [--json]",
		Short: "List the products that meet a certificate's needs, closest level first " +
			"(DV, OV and EV are minimums; private means a built-in CA)",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				q.ValidationLevel = string(parseLevel(level))
				matches, err := c.SelectProducts(ctx, q)
				if err != nil {
					return err
				}
				return a.writeProducts(matches.Items, asJSON)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&level, "level", "", "lowest validation level accepted: DV, OV, EV, or exactly private")
	f.BoolVar(&q.Wildcard, "wildcard", false, "a wildcard name is needed")
	f.IntVar(&q.Names, "names", 0, "number of names on the certificate")
	f.IntVar(&q.ValidityDays, "days", 0, "validity needed in days")
	f.StringVar(&q.Issuer, "issuer", "", "only this issuer's products")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type productListView struct {
	Products []productView `json:"products"`
}

type productView struct {
	ID              int64  `json:"id"`
	Issuer          string `json:"issuer"`
	IssuerKind      string `json:"issuer_kind"`
	Name            string `json:"name"`
	ValidationLevel string `json:"validation_level"`
	Wildcard        bool   `json:"wildcard"`
	MaxNames        int    `json:"max_names"`
	MaxValidityDays int    `json:"max_validity_days"`
	URL             string `json:"url,omitempty"`
	Notes           string `json:"notes,omitempty"`
}

func (a *app) writeProducts(list []client.ProductMatch, asJSON bool) error {
	if asJSON {
		v := productListView{Products: make([]productView, 0, len(list))}
		for _, m := range list {
			p := m.Product
			v.Products = append(v.Products, productView{ID: p.ID, Issuer: m.Issuer.Name, IssuerKind: m.Issuer.Kind,
				Name: p.Name, ValidationLevel: p.ValidationLevel, Wildcard: p.Wildcard, MaxNames: p.MaxNames,
				MaxValidityDays: p.MaxValidityDays, URL: p.URL, Notes: p.Notes})
		}
		return writeJSON(a.env.Stdout, v)
	}
	writeProductTable(a.env.Stdout, list)
	return nil
}

func writeProductTable(w io.Writer, list []client.ProductMatch) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no products")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tISSUER\tPRODUCT\tLEVEL\tWILDCARD\tMAX NAMES\tMAX DAYS")
	for _, m := range list {
		p := m.Product
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, m.Issuer.Name, p.Name, p.ValidationLevel,
			yesNo(p.Wildcard), limitText(p.MaxNames), limitText(p.MaxValidityDays))
	}
	tw.Flush()
}

// parseLevel accepts validation levels in any letter case.
func parseLevel(s string) inventory.ValidationLevel {
	if strings.EqualFold(s, string(inventory.LevelPrivate)) {
		return inventory.LevelPrivate
	}
	return inventory.ValidationLevel(strings.ToUpper(s))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// limitText shows a limit where zero means none.
func limitText(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}
