package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/catalogue"
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
	var p inventory.Product
	cmd := &cobra.Command{
		Use:   "add --issuer NAME --name P --level DV|OV|EV [--wildcard] [--max-names N] [--max-days N]",
		Short: "Add a product to an issuer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, err := a.catalogue(cmd.Context())
			if err != nil {
				return err
			}
			p.ValidationLevel = parseLevel(level)
			got, err := svc.AddProduct(cmd.Context(), a.actor(), issuer, p)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "added product %s of %s (%s)\n", got.Name, issuer, got.ValidationLevel)
			return nil
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
			svc, err := a.catalogue(cmd.Context())
			if err != nil {
				return err
			}
			list, err := svc.Products(cmd.Context(), issuer)
			if err != nil {
				return err
			}
			matches, err := withIssuers(cmd.Context(), svc, list)
			if err != nil {
				return err
			}
			return a.writeProducts(matches, asJSON)
		},
	}
	cmd.Flags().StringVar(&issuer, "issuer", "", "only this issuer's products")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// withIssuers pairs products with their issuers.
func withIssuers(ctx context.Context, svc *catalogue.Service, list []inventory.Product) ([]catalogue.Match, error) {
	issuers, err := svc.Issuers(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[int64]inventory.Issuer{}
	for _, i := range issuers {
		byID[i.ID] = i
	}
	out := make([]catalogue.Match, 0, len(list))
	for _, p := range list {
		out = append(out, catalogue.Match{Issuer: byID[p.IssuerID], Product: p})
	}
	return out, nil
}

func (a *app) productSelectCommand() *cobra.Command {
	var r catalogue.Requirements
	var level string
	var asJSON bool
	cmd := &cobra.Command{
		Use: "select [--level DV|OV|EV|private] [--wildcard] [--names N] [--days N] [--issuer NAME] [--json]",
		Short: "List the products that meet a certificate's needs, closest level first " +
			"(DV, OV and EV are minimums; private means a built-in CA)",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, err := a.catalogue(cmd.Context())
			if err != nil {
				return err
			}
			r.ValidationLevel = parseLevel(level)
			matches, err := svc.Select(cmd.Context(), r)
			if err != nil {
				return err
			}
			return a.writeProducts(matches, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVar(&level, "level", "", "lowest validation level accepted: DV, OV, EV, or exactly private")
	f.BoolVar(&r.Wildcard, "wildcard", false, "a wildcard name is needed")
	f.IntVar(&r.Names, "names", 0, "number of names on the certificate")
	f.IntVar(&r.ValidityDays, "days", 0, "validity needed in days")
	f.StringVar(&r.Issuer, "issuer", "", "only this issuer's products")
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

func (a *app) writeProducts(list []catalogue.Match, asJSON bool) error {
	if asJSON {
		v := productListView{Products: make([]productView, 0, len(list))}
		for _, m := range list {
			p := m.Product
			v.Products = append(v.Products, productView{ID: p.ID, Issuer: m.Issuer.Name, IssuerKind: string(m.Issuer.Kind),
				Name: p.Name, ValidationLevel: string(p.ValidationLevel), Wildcard: p.Wildcard, MaxNames: p.MaxNames,
				MaxValidityDays: p.MaxValidityDays, URL: p.URL, Notes: p.Notes})
		}
		return writeJSON(a.env.Stdout, v)
	}
	writeProductTable(a.env.Stdout, list)
	return nil
}

func writeProductTable(w io.Writer, list []catalogue.Match) {
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
