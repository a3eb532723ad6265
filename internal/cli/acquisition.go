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

// defaultAttentionDays is how far ahead "acquisition list" and
// "acquisition attention" look for expiring certificates, as the API does.
const defaultAttentionDays = 60

func (a *app) acquisitionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "acquisition",
		Aliases: []string{"acq"},
		Short:   "Get certificates for definitions: start a process, issue or order, upload, switch",
		Long: "An acquisition process gets one certificate for a definition and records every step.\n" +
			"Built-in CA: start, issue, switch. Vendor: start, csr, order, upload, switch.\n" +
			"Outside the CA's issuance policy with approval on: issue waits in pending_approval for an admin's approve or reject.\n" +
			"With --server the commands work against a certkeeper server; without, on the local data directory.",
	}
	cmd.AddCommand(a.acquisitionStartCommand(), a.acquisitionListCommand(), a.acquisitionAttentionCommand(),
		a.acquisitionShowCommand(), a.acquisitionCSRCommand(), a.acquisitionIssueCommand(),
		a.acquisitionOrderCommand(), a.acquisitionUploadCommand(), a.acquisitionSwitchCommand(),
		a.acquisitionCancelCommand(), a.acquisitionChooseIssuerCommand(),
		a.acquisitionApproveCommand(), a.acquisitionRejectCommand())
	return cmd
}

type acquisitionStartOptions struct {
	issuer, product, kind string
	reuseKey, autoSwitch  bool
	json                  bool
}

func (a *app) acquisitionStartCommand() *cobra.Command {
	var o acquisitionStartOptions
	cmd := &cobra.Command{
		Use:   "start DEFINITION [--issuer NAME] [--product NAME] [--kind new|renewal] [--reuse-key] [--auto-switch]",
		Short: "Start getting a certificate for a definition: make the key and the request, choose the issuer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				return a.runAcquisitionStart(ctx, c, args[0], &o)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.issuer, "issuer", "", "issuer name (default: the definition's required issuer, else the default CA)")
	f.StringVar(&o.product, "product", "", "product name (default: the issuer's only product)")
	f.StringVar(&o.kind, "kind", "", "new or renewal (default: renewal when the definition has a current certificate)")
	f.BoolVar(&o.reuseKey, "reuse-key", false, "renewal: keep the current certificate's key")
	f.BoolVar(&o.autoSwitch, "auto-switch", false, "make the certificate current as soon as it is received")
	f.BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

func (a *app) runAcquisitionStart(ctx context.Context, c *client.Client, definition string, o *acquisitionStartOptions) error {
	n := newAPINames(c)
	in := client.AcquisitionStart{Kind: o.kind, ReuseKey: o.reuseKey, AutoSwitch: o.autoSwitch}
	var err error
	if in.DefinitionID, err = n.definitionID(ctx, definition); err != nil {
		return err
	}
	if in.IssuerID, in.ProductID, err = issuerAndProduct(ctx, n, o.issuer, o.product, 0); err != nil {
		return err
	}
	p, err := c.StartAcquisition(ctx, in)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(a.env.Stdout, p)
	}
	iss := n.issuer(ctx, p.IssuerID)
	fmt.Fprintf(a.env.Stdout, "started acquisition %d for %s (%s): issuer %s, product %s, key %d; state %s\n",
		p.ID, first(p.Definition, definition), p.Kind, iss.Name, n.product(ctx, p.IssuerID, p.ProductID), p.KeyID, p.State)
	fmt.Fprintln(a.env.Stdout, nextStep(p, iss.Kind))
	return nil
}

// issuerAndProduct maps an issuer and a product name (either may be "")
// to IDs; a product without an issuer is looked up at fallback, the
// issuer already in use.
func issuerAndProduct(ctx context.Context, n *apiNames, issuer, product string, fallback int64) (int64, int64, error) {
	var issuerID, productID int64
	var err error
	if issuer != "" {
		if issuerID, err = n.issuerID(ctx, issuer); err != nil {
			return 0, 0, err
		}
	}
	if product == "" {
		return issuerID, 0, nil
	}
	in := issuerID
	if in == 0 {
		in = fallback
	}
	if in == 0 {
		return 0, 0, fmt.Errorf("--product needs --issuer: product names belong to an issuer")
	}
	productID, err = n.productID(ctx, in, product)
	return issuerID, productID, err
}

// nextStep says what to do next with process p, whose issuer is of kind
// issuerKind.
func nextStep(p *client.Acquisition, issuerKind string) string {
	id := p.ID
	switch {
	case p.State == "csr_ready" && issuerKind == "builtin-ca":
		return fmt.Sprintf("next: certkeeper acquisition issue %d", id)
	case p.State == "csr_ready":
		return fmt.Sprintf("next: certkeeper acquisition csr %d --out FILE, order at the vendor, "+
			"then certkeeper acquisition order %d --number N and upload %d FILE", id, id, id)
	case p.State == "pending_approval":
		return fmt.Sprintf("acquisition %d is outside the CA's issuance policy and waits for an admin: "+
			"certkeeper acquisition approve %d, or reject %d --reason TEXT", id, id, id)
	case p.State == "ordered":
		return fmt.Sprintf("next: certkeeper acquisition upload %d FILE (what the vendor sent)", id)
	case p.State == "issued":
		return fmt.Sprintf("next: certkeeper acquisition switch %d (make the certificate current)", id)
	}
	return fmt.Sprintf("acquisition %d is %s", id, p.State)
}

type acquisitionListOptions struct {
	state, definition, after string
	limit, days              int
	all, json                bool
}

func (a *app) acquisitionListCommand() *cobra.Command {
	var o acquisitionListOptions
	cmd := &cobra.Command{
		Use:   "list [--state open|csr_ready,...] [--definition NAME] [--limit N] [--all] [--days N]",
		Short: "List open processes and, below them, the definitions that need one",
		Long: "Without filters, list shows the open processes (csr_ready, pending_approval, ordered, issued) and the\n" +
			"definitions whose certificate expires within --days days and that have no open process.\n" +
			"--state, --definition or --all list processes only.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.all && cmd.Flags().Changed("state") {
				return fmt.Errorf("give --state or --all, not both")
			}
			attention := !o.all && !cmd.Flags().Changed("state") && o.definition == ""
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				return a.runAcquisitionList(ctx, c, &o, attention)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.state, "state", "open", "comma-separated states (csr_ready, pending_approval, ordered, issued, completed, cancelled) or open")
	f.StringVar(&o.definition, "definition", "", "only this definition's processes")
	f.IntVar(&o.limit, "limit", 100, "show at most this many processes (at most 1000)")
	f.StringVar(&o.after, "after", "", "cursor printed with the previous page")
	f.BoolVar(&o.all, "all", false, "processes in every state, completed and cancelled too")
	f.IntVar(&o.days, "days", defaultAttentionDays, "look-ahead for the definitions needing attention")
	f.BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

// acquisitionListView is the JSON of "acquisition list": the page of
// processes and, when listed, the definitions needing attention.
type acquisitionListView struct {
	client.AcquisitionList
	Attention []client.Definition `json:"attention,omitempty"`
}

func (a *app) runAcquisitionList(ctx context.Context, c *client.Client, o *acquisitionListOptions, attention bool) error {
	if o.limit < 1 || o.limit > 1000 {
		return fmt.Errorf("--limit must be between 1 and 1000")
	}
	n := newAPINames(c)
	q := client.AcquisitionQuery{State: o.state, Page: client.Page{Limit: o.limit, After: o.after}}
	if o.all {
		q.State = ""
	}
	if o.definition != "" {
		id, err := n.definitionID(ctx, o.definition)
		if err != nil {
			return err
		}
		q.DefinitionID = id
	}
	list, err := c.ListAcquisitions(ctx, q)
	if err != nil {
		return err
	}
	v := acquisitionListView{AcquisitionList: *list}
	if attention {
		if v.Attention, err = attentionItems(ctx, c, o.days); err != nil {
			return err
		}
	}
	if o.json {
		return writeJSON(a.env.Stdout, v)
	}
	a.writeAcquisitionList(ctx, n, list)
	if attention {
		fmt.Fprintln(a.env.Stdout)
		return a.writeAttention(ctx, c, v.Attention, o.days)
	}
	return nil
}

func (a *app) writeAcquisitionList(ctx context.Context, n *apiNames, list *client.AcquisitionList) {
	w := a.env.Stdout
	if len(list.Items) == 0 {
		fmt.Fprintln(w, "no acquisition processes match")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tDEFINITION\tKIND\tSTATE\tISSUER\tPRODUCT\tCERTIFICATE\tUPDATED")
	for _, p := range list.Items {
		cert := "-"
		if p.CertificateID != 0 {
			cert = fmt.Sprint(p.CertificateID)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, n.definition(ctx, p.DefinitionID), p.Kind, p.State,
			n.issuer(ctx, p.IssuerID).Name, n.product(ctx, p.IssuerID, p.ProductID), cert, stamp(p.UpdatedAt))
	}
	tw.Flush()
	if list.Next != "" {
		fmt.Fprintf(w, "more: --after %s\n", list.Next)
	}
}

func (a *app) acquisitionAttentionCommand() *cobra.Command {
	var days int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "attention [--days N]",
		Short: "List the definitions whose certificate expires within N days and that have no open process",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				items, err := attentionItems(ctx, c, days)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, client.DefinitionList{Items: items})
				}
				return a.writeAttention(ctx, c, items, days)
			})
		},
	}
	cmd.Flags().IntVar(&days, "days", defaultAttentionDays, "look-ahead in days")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// attentionItems returns every definition needing attention within days.
func attentionItems(ctx context.Context, c *client.Client, days int) ([]client.Definition, error) {
	if days < 1 || days > 36500 {
		return nil, fmt.Errorf("--days must be between 1 and 36500")
	}
	items := []client.Definition{}
	p := client.Page{Limit: 1000}
	for {
		list, err := c.Attention(ctx, days, p)
		if err != nil {
			return nil, err
		}
		items = append(items, list.Items...)
		if list.Next == "" {
			return items, nil
		}
		p.After = list.Next
	}
}

// writeAttention prints the definitions needing attention with their
// current certificate's expiry.
func (a *app) writeAttention(ctx context.Context, c *client.Client, items []client.Definition, days int) error {
	w := a.env.Stdout
	if len(items) == 0 {
		fmt.Fprintf(w, "no definition needs attention: no certificate expires within %d days or is revoked without an open process\n", days)
		return nil
	}
	fmt.Fprintf(w, "Definitions needing attention (certificate expires within %d days or is revoked, no open process):\n", days)
	now := a.env.Now()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEFINITION\tCOMMON NAME\tCERTIFICATE\tEXPIRES\tDAYS\tSTART WITH")
	for _, d := range items {
		expires, left := "-", "-"
		if d.CurrentCertificateID != 0 {
			cert, err := c.GetCertificate(ctx, d.CurrentCertificateID)
			if err != nil {
				return err
			}
			expires, left = cert.NotAfter.UTC().Format(time.DateOnly), fmt.Sprint(daysLeft(now, cert.NotAfter))
			if cert.RevokedAt != nil {
				left = "revoked"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\tcertkeeper acquisition start %s\n", d.Name, orDash(d.Subject.CommonName),
			d.CurrentCertificateID, expires, left, shellWord(d.Name))
	}
	return tw.Flush()
}

// shellWord quotes s for a command line shown to the user when it holds
// characters a shell would split or expand.
func shellWord(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"$`\\*?[]{}()<>|&;!#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeValidation prints what issuing or uploading produced.
func writeValidation(w io.Writer, v *client.Validation, definition string) {
	p := &v.Acquisition
	if c := v.Certificate; c != nil {
		fmt.Fprintf(w, "acquisition %d: certificate %d for %s registered: %s, expires %s\n", p.ID, c.ID,
			definition, first(c.CommonName, c.Subject), c.NotAfter.UTC().Format(time.DateOnly))
		fmt.Fprintf(w, "  SHA-256 %s\n", colonHex(c.SHA256))
	}
	if len(v.Chain) > 0 {
		fmt.Fprintln(w, "  verified chain:")
		for i, x := range v.Chain {
			fmt.Fprintf(w, "    %d  %s (expires %s)\n", i, x.Subject, x.NotAfter.UTC().Format(time.DateOnly))
		}
	}
	for _, d := range v.Differences {
		fmt.Fprintf(w, "  differs from the definition: %s\n", d)
	}
	if v.Switched {
		fmt.Fprintf(w, "the certificate is now the current certificate of %s (acquisition %d %s)\n", definition, p.ID, p.State)
		return
	}
	fmt.Fprintln(w, nextStep(p, ""))
}
