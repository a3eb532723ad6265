package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

func (a *app) acquisitionShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID [--json]",
		Short: "Show a process: state, issuer, order, certificate, differences and every step",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("acquisition", args[0])
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				return a.runAcquisitionShow(ctx, c, id, asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// acquisitionView is the JSON of "acquisition show": the process and,
// once received, its certificate.
type acquisitionView struct {
	client.Acquisition
	Certificate *client.Certificate `json:"certificate,omitempty"`
}

func (a *app) runAcquisitionShow(ctx context.Context, c *client.Client, id int64, asJSON bool) error {
	p, err := c.GetAcquisition(ctx, id)
	if err != nil {
		return err
	}
	v := acquisitionView{Acquisition: *p}
	if p.CertificateID != 0 {
		if v.Certificate, err = c.GetCertificate(ctx, p.CertificateID); err != nil {
			return err
		}
		v.Certificate.PEM = ""
	}
	if asJSON {
		return writeJSON(a.env.Stdout, v)
	}
	a.writeAcquisition(ctx, newAPINames(c), &v)
	return nil
}

func (a *app) writeAcquisition(ctx context.Context, n *apiNames, v *acquisitionView) {
	w := a.env.Stdout
	p := &v.Acquisition
	iss := n.issuer(ctx, p.IssuerID)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("acquisition", "%d", p.ID)
	row("definition", "%s", first(p.Definition, n.definition(ctx, p.DefinitionID)))
	row("state", "%s (%s)", p.State, p.Kind)
	row("issuer", "%s (%s), product %s", iss.Name, orDash(iss.Kind), n.product(ctx, p.IssuerID, p.ProductID))
	row("key", "%d", p.KeyID)
	if p.AutoSwitch {
		row("auto switch", "yes: the certificate becomes current once received")
	}
	row("created", "%s by %s", stamp(p.CreatedAt), p.CreatedBy)
	row("updated", "%s (version %d)", stamp(p.UpdatedAt), p.Version)
	if o := p.Order; o != nil {
		date := "-"
		if !o.Date.IsZero() {
			date = o.Date.UTC().Format(time.DateOnly)
		}
		row("order", "number %s, account %s, date %s, product %s", orDash(o.Number), n.vendorAccount(ctx, o.VendorAccountID),
			date, n.product(ctx, p.IssuerID, o.ProductID))
		if o.Notes != "" {
			row("order notes", "%s", o.Notes)
		}
	}
	if c := v.Certificate; c != nil {
		row("certificate", "%d: %s", c.ID, first(c.CommonName, c.Subject))
		row("expires", "%s (%s, %s)", c.NotAfter.UTC().Format(time.DateOnly), daysText(daysLeft(a.env.Now(), c.NotAfter)), c.Status)
		row("SHA-256", "%s", colonHex(c.SHA256))
	}
	tw.Flush()
	for _, d := range p.Differences {
		fmt.Fprintf(w, "differs from the definition: %s\n", d)
	}
	writeSteps(w, p.Steps)
	if p.State != "completed" && p.State != "cancelled" {
		fmt.Fprintln(w, nextStep(p, iss.Kind))
	}
}

func writeSteps(w io.Writer, steps []client.Step) {
	if len(steps) == 0 {
		return
	}
	fmt.Fprintln(w, "\nSteps:")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTOR\tACTION\tDETAIL")
	for _, s := range steps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Time.UTC().Format(time.RFC3339), s.Actor, s.Action,
			strings.Join(strings.Fields(s.Detail), " "))
	}
	tw.Flush()
}
