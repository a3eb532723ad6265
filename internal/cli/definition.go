package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/definitions"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func (a *app) definitionCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "definition",
		Short: "Manage certificate definitions: what a certificate should name, its key, issuer and renewal",
	}
	cmd.AddCommand(a.definitionCreateCommand(), a.definitionListCommand(), a.definitionShowCommand(),
		a.definitionUpdateCommand(), a.definitionCloneCommand(), a.definitionImportCommand(), a.documentCommand())
	return cmd
}

// definitionFlags are the fields of a definition as command-line flags.
type definitionFlags struct {
	subject                client.Subject
	sans, labels, targets  []string
	keyType, requester     string
	email, issuer, level   string
	notes                  string
	renewDays, names, days int
	renewFraction          float64
	wildcard               bool
}

func (f *definitionFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.subject.CommonName, "cn", "", "subject common name")
	fl.StringVar(&f.subject.Organization, "o", "", "subject organisation")
	fl.StringVar(&f.subject.OrganizationalUnit, "ou", "", "subject organisational unit")
	fl.StringVar(&f.subject.Locality, "l", "", "subject locality")
	fl.StringVar(&f.subject.Province, "st", "", "subject state or province")
	fl.StringVar(&f.subject.Country, "c", "", "subject country (two letters)")
	fl.StringSliceVar(&f.sans, "san", nil, "subject alternative name: DNS name, *.wildcard or IP (repeatable)")
	fl.StringVar(&f.keyType, "key-type", definitions.DefaultKeyType, "key type: "+strings.Join(definitions.KeyTypes, ", "))
	fl.IntVar(&f.renewDays, "renew-days", 0, "renew this many days before expiry (default 30 when no policy is given)")
	fl.Float64Var(&f.renewFraction, "renew-fraction", 0, "renew when this fraction of the lifetime is left (0 to 1)")
	fl.StringSliceVar(&f.labels, "label", nil, "label (repeatable)")
	fl.StringVar(&f.requester, "requester", "", "who asked for the certificate")
	fl.StringVar(&f.email, "email", "", "contact e-mail address")
	fl.StringSliceVar(&f.targets, "target", nil, "server the certificate is deployed to (repeatable)")
	fl.StringVar(&f.issuer, "issuer", "", "required issuer (CA or catalogue name)")
	fl.StringVar(&f.level, "level", "", "required validation level: DV, OV or EV")
	fl.BoolVar(&f.wildcard, "wildcard", false, "allow wildcard SANs")
	fl.IntVar(&f.names, "names", 0, "number of names the certificate must cover")
	fl.IntVar(&f.days, "days", 0, "wanted validity in days (0: the issuer's default)")
	fl.StringVar(&f.notes, "notes", "", "free-text notes")
}

// apply copies the flags the user gave onto d; with all set, every flag
// is copied (for create).
func (f *definitionFlags) apply(cmd *cobra.Command, d *client.Definition, all bool) {
	set := func(name string) bool { return all || cmd.Flags().Changed(name) }
	subject := []struct {
		flag     string
		dst, src *string
	}{
		{"cn", &d.Subject.CommonName, &f.subject.CommonName}, {"o", &d.Subject.Organization, &f.subject.Organization},
		{"ou", &d.Subject.OrganizationalUnit, &f.subject.OrganizationalUnit}, {"l", &d.Subject.Locality, &f.subject.Locality},
		{"st", &d.Subject.Province, &f.subject.Province}, {"c", &d.Subject.Country, &f.subject.Country},
		{"key-type", &d.KeyType, &f.keyType}, {"requester", &d.Requester, &f.requester}, {"email", &d.ContactEmail, &f.email},
		{"issuer", &d.Requirements.Issuer, &f.issuer}, {"level", &d.Requirements.ValidationLevel, &f.level},
		{"notes", &d.Notes, &f.notes},
	}
	for _, s := range subject {
		if set(s.flag) {
			*s.dst = *s.src
		}
	}
	lists := []struct {
		flag     string
		dst, src *[]string
	}{{"san", &d.SANs, &f.sans}, {"label", &d.Labels, &f.labels}, {"target", &d.Targets, &f.targets}}
	for _, l := range lists {
		if set(l.flag) {
			*l.dst = *l.src
		}
	}
	f.applyNumbers(cmd, d, all)
}

func (f *definitionFlags) applyNumbers(cmd *cobra.Command, d *client.Definition, all bool) {
	set := func(name string) bool { return all || cmd.Flags().Changed(name) }
	if set("wildcard") {
		d.Requirements.Wildcard = f.wildcard
	}
	if set("names") {
		d.Requirements.Names = f.names
	}
	if set("days") {
		d.Requirements.ValidityDays = f.days
	}
	days, fraction := cmd.Flags().Changed("renew-days"), cmd.Flags().Changed("renew-fraction")
	if days || fraction {
		d.Renewal = client.Renewal{DaysBefore: f.renewDays, LifetimeFraction: f.renewFraction}
	} else if all {
		d.Renewal = client.Renewal{DaysBefore: definitions.DefaultRenewalDays}
	}
}

func (a *app) definitionCreateCommand() *cobra.Command {
	var f definitionFlags
	cmd := &cobra.Command{
		Use:   "create NAME --cn CN [--san NAME ...] [flags]",
		Short: "Add a certificate definition",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				d := &client.Definition{Name: args[0]}
				f.apply(cmd, d, true)
				d, err := c.CreateDefinition(ctx, d)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "created definition %s (version %d)\n", d.Name, d.Version)
				return nil
			})
		},
	}
	f.bind(cmd)
	return cmd
}

func (a *app) definitionUpdateCommand() *cobra.Command {
	var (
		f       definitionFlags
		version int64
	)
	cmd := &cobra.Command{
		Use:   "update NAME --version V [flags]",
		Short: "Change a definition; --version is the version you read (see show), so nobody's change is lost",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("version") {
				return fmt.Errorf("give --version, the version shown by \"definition show %s\"", args[0])
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := c.DefinitionByName(ctx, args[0])
				if err != nil {
					return err
				}
				d.Version = version
				f.apply(cmd, d, false)
				if d, err = c.UpdateDefinition(ctx, d); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "updated definition %s (version %d)\n", d.Name, d.Version)
				return nil
			})
		},
	}
	f.bind(cmd)
	cmd.Flags().Int64Var(&version, "version", 0, "the definition's version as last read")
	return cmd
}

func (a *app) definitionCloneCommand() *cobra.Command {
	var issuer string
	cmd := &cobra.Command{
		Use:   "clone NAME NEW [--issuer X]",
		Short: "Copy a definition under a new name, e.g. to point a production set at the private CA for a test system",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				src, err := c.DefinitionByName(ctx, args[0])
				if err != nil {
					return err
				}
				in := client.DefinitionClone{Name: args[1]}
				if cmd.Flags().Changed("issuer") {
					req := src.Requirements
					req.Issuer = issuer
					in.Requirements = &req
				}
				d, err := c.CloneDefinition(ctx, src.ID, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "cloned definition %s as %s\n", args[0], d.Name)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&issuer, "issuer", "", "required issuer of the copy")
	return cmd
}

func (a *app) definitionImportCommand() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "import CERT-ID|SHA256 [--name N]",
		Short: "Make a definition from a certificate in the inventory, with it as the current certificate",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				certID, err := certificateRef(ctx, c, args[0])
				if err != nil {
					return err
				}
				imp, err := c.ImportDefinition(ctx, client.DefinitionImport{CertificateID: certID, Name: name})
				if err != nil {
					return err
				}
				held := "key not held: the certificate can be monitored, not redeployed"
				if imp.KeyHeld {
					held = "key held: the certificate can be redeployed"
				}
				fmt.Fprintf(a.env.Stdout, "created definition %s from certificate %d (%s)\n", imp.Definition.Name, certID, held)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "definition name (default: the certificate's common name)")
	return cmd
}

func (a *app) definitionListCommand() *cobra.Command {
	var (
		q      client.DefinitionQuery
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list [--label L] [--search T] [--json]",
		Short: "List definitions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				page, err := c.ListDefinitions(ctx, q)
				if err != nil {
					return err
				}
				if asJSON {
					v := definitionListView{Definitions: make([]definitionView, 0, len(page.Items)), Next: page.Next}
					for i := range page.Items {
						v.Definitions = append(v.Definitions, newDefinitionView(&page.Items[i]))
					}
					return writeJSON(a.env.Stdout, v)
				}
				writeDefinitionList(a.env.Stdout, page)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&q.Label, "label", "", "only definitions with this label")
	cmd.Flags().StringVar(&q.Q, "search", "", "only definitions whose name, common name, SANs, requester or notes contain this text")
	cmd.Flags().IntVar(&q.Limit, "limit", inventory.DefaultPageSize, "page size")
	cmd.Flags().StringVar(&q.After, "after", "", "cursor printed with the previous page")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeDefinitionList(w io.Writer, page *client.DefinitionList) {
	if len(page.Items) == 0 {
		fmt.Fprintln(w, "no definitions")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCOMMON NAME\tSANS\tKEY\tISSUER\tLABELS\tVERSION")
	for _, d := range page.Items {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\n", d.Name, d.Subject.CommonName, len(d.SANs), d.KeyType,
			dash(d.Requirements.Issuer), dash(strings.Join(d.Labels, ",")), d.Version)
	}
	tw.Flush()
	if page.Next != "" {
		fmt.Fprintf(w, "more: --after %s\n", page.Next)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *app) definitionShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NAME [--json]",
		Short: "Show a definition and its documents",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := c.DefinitionByName(ctx, args[0])
				if err != nil {
					return err
				}
				docs, err := c.ListDocuments(ctx, d.ID)
				if err != nil {
					return err
				}
				v := newDefinitionView(d)
				v.Documents = newDocumentViews(docs.Items)
				if asJSON {
					return writeJSON(a.env.Stdout, v)
				}
				writeDefinition(a.env.Stdout, &v)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type definitionListView struct {
	Definitions []definitionView `json:"definitions"`
	Next        string           `json:"next,omitempty"`
}

type definitionView struct {
	ID                   int64               `json:"id"`
	Name                 string              `json:"name"`
	Subject              client.Subject      `json:"subject"`
	SANs                 []string            `json:"sans"`
	KeyType              string              `json:"key_type"`
	Requirements         client.Requirements `json:"requirements"`
	Requester            string              `json:"requester"`
	ContactEmail         string              `json:"contact_email"`
	Targets              []string            `json:"targets"`
	Renewal              client.Renewal      `json:"renewal"`
	Labels               []string            `json:"labels"`
	Notes                string              `json:"notes"`
	CurrentCertificateID int64               `json:"current_certificate_id,omitempty"`
	Version              int64               `json:"version"`
	CreatedAt            time.Time           `json:"created_at"`
	UpdatedAt            time.Time           `json:"updated_at"`
	Documents            []documentView      `json:"documents,omitempty"`
}

type documentView struct {
	Name      string    `json:"name"`
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"created_at"`
}

func newDefinitionView(d *client.Definition) definitionView {
	return definitionView{ID: d.ID, Name: d.Name, Subject: d.Subject, SANs: nonNil(d.SANs), KeyType: d.KeyType,
		Requirements: d.Requirements, Requester: d.Requester, ContactEmail: d.ContactEmail, Targets: nonNil(d.Targets),
		Renewal: d.Renewal, Labels: nonNil(d.Labels), Notes: d.Notes, CurrentCertificateID: d.CurrentCertificateID,
		Version: d.Version, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

func newDocumentViews(docs []client.Document) []documentView {
	out := make([]documentView, 0, len(docs))
	for _, d := range docs {
		out = append(out, documentView{Name: d.Name, Size: d.Size, CreatedAt: d.CreatedAt})
	}
	return out
}

func writeDefinition(w io.Writer, v *definitionView) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	s := v.Subject
	renewal := fmt.Sprintf("%d days before expiry", v.Renewal.DaysBefore)
	if v.Renewal.LifetimeFraction != 0 {
		renewal = fmt.Sprintf("when %g of the lifetime is left", v.Renewal.LifetimeFraction)
	}
	r := v.Requirements
	rows := [][2]string{
		{"Name", v.Name}, {"Version", strconv.FormatInt(v.Version, 10)},
		{"Subject", fmt.Sprintf("CN=%s O=%s OU=%s L=%s ST=%s C=%s", s.CommonName, s.Organization, s.OrganizationalUnit, s.Locality, s.Province, s.Country)},
		{"SANs", dash(strings.Join(v.SANs, ", "))}, {"Key type", v.KeyType},
		{"Issuer", dash(r.Issuer)}, {"Validation level", dash(r.ValidationLevel)},
		{"Wildcard", strconv.FormatBool(r.Wildcard)}, {"Names", strconv.Itoa(r.Names)},
		{"Validity days", strconv.Itoa(r.ValidityDays)}, {"Renewal", renewal},
		{"Requester", dash(v.Requester)}, {"Contact", dash(v.ContactEmail)},
		{"Targets", dash(strings.Join(v.Targets, ", "))}, {"Labels", dash(strings.Join(v.Labels, ", "))},
		{"Current certificate", dash(strconv.FormatInt(v.CurrentCertificateID, 10))}, {"Notes", dash(v.Notes)},
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
	}
	tw.Flush()
	fmt.Fprintf(w, "Documents: %d\n", len(v.Documents))
	for _, d := range v.Documents {
		fmt.Fprintf(w, "  %s (%d bytes)\n", d.Name, d.Size)
	}
}
