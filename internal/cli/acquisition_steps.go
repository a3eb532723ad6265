package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/importer"
)

// acquisitionIDCommand is a subcommand taking one process ID; run gets
// the ID and the API client.
func (a *app) acquisitionIDCommand(use, short string, run func(context.Context, *client.Client, int64) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("acquisition", args[0])
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error { return run(ctx, c, id) })
		},
	}
}

func (a *app) acquisitionCSRCommand() *cobra.Command {
	var out string
	var force bool
	cmd := a.acquisitionIDCommand("csr ID [--out FILE]", "Download the process's certificate request (PEM) to give to the vendor",
		func(ctx context.Context, c *client.Client, id int64) error {
			csr, err := c.AcquisitionCSR(ctx, id)
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err := a.env.Stdout.Write(csr)
				return err
			}
			if err := writeFileAtomic(out, csr, 0o644, force); err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "wrote the request of acquisition %d to %s\n", id, out)
			return nil
		})
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the request to this file (default standard output)")
	cmd.Flags().BoolVar(&force, "force", false, "replace the output file if it exists")
	return cmd
}

func (a *app) acquisitionIssueCommand() *cobra.Command {
	var asJSON bool
	cmd := a.acquisitionIDCommand("issue ID", "Have the process's built-in CA sign its request",
		func(ctx context.Context, c *client.Client, id int64) error {
			v, err := c.Issue(ctx, id)
			if err != nil {
				return err
			}
			return a.printValidation(ctx, c, v, asJSON)
		})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) printValidation(ctx context.Context, c *client.Client, v *client.Validation, asJSON bool) error {
	if asJSON {
		return writeJSON(a.env.Stdout, v)
	}
	writeValidation(a.env.Stdout, v, newAPINames(c).definition(ctx, v.Acquisition.DefinitionID))
	return nil
}

type acquisitionOrderOptions struct {
	number, account, date, product, notes string
	json                                  bool
}

func (a *app) acquisitionOrderCommand() *cobra.Command {
	var o acquisitionOrderOptions
	cmd := a.acquisitionIDCommand("order ID --number N [--vendor-account NAME] [--date YYYY-MM-DD] [--product NAME] [--notes TEXT]",
		"Record the order placed at the vendor (again while ordered to correct it)",
		func(ctx context.Context, c *client.Client, id int64) error {
			return a.runAcquisitionOrder(ctx, c, id, &o)
		})
	f := cmd.Flags()
	f.StringVar(&o.number, "number", "", "the vendor's order number (required)")
	f.StringVar(&o.account, "vendor-account", "", "the vendor account the order was placed with")
	f.StringVar(&o.date, "date", "", "order date, YYYY-MM-DD (default today)")
	f.StringVar(&o.product, "product", "", "the product ordered, when not the process's")
	f.StringVar(&o.notes, "notes", "", "free text")
	f.BoolVar(&o.json, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("number")
	return cmd
}

func (a *app) runAcquisitionOrder(ctx context.Context, c *client.Client, id int64, o *acquisitionOrderOptions) error {
	in := client.OrderInput{Number: o.number, Notes: o.notes}
	if o.date != "" {
		d, err := time.Parse(time.DateOnly, o.date)
		if err != nil {
			return fmt.Errorf("--date %q: write the date as YYYY-MM-DD", o.date)
		}
		in.Date = d
	}
	n := newAPINames(c)
	if o.account != "" || o.product != "" {
		p, err := c.GetAcquisition(ctx, id)
		if err != nil {
			return err
		}
		if _, in.ProductID, err = issuerAndProduct(ctx, n, "", o.product, p.IssuerID); err != nil {
			return err
		}
		if o.account != "" {
			if in.VendorAccountID, err = n.vendorAccountID(ctx, p.IssuerID, o.account); err != nil {
				return err
			}
		}
	}
	p, err := c.RecordOrder(ctx, id, in)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(a.env.Stdout, p)
	}
	fmt.Fprintf(a.env.Stdout, "recorded order %s for acquisition %d (%s); state %s\n", o.number, p.ID,
		first(p.Definition, n.definition(ctx, p.DefinitionID)), p.State)
	fmt.Fprintln(a.env.Stdout, nextStep(p, ""))
	return nil
}

type acquisitionUploadOptions struct {
	intermediates []string
	password      secretFlag
	json          bool
}

func (a *app) acquisitionUploadCommand() *cobra.Command {
	var o acquisitionUploadOptions
	cmd := &cobra.Command{
		Use: "upload ID FILE [--intermediate FILE]... [--password-file F | --password P]",
		Short: "Upload the certificate the vendor sent (PEM, DER, P7B or PFX); it is checked against " +
			"the process's key and its chain verified before anything is stored",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("acquisition", args[0])
			if err != nil {
				return err
			}
			u, err := o.upload(cmd, args[1])
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				v, err := c.UploadCertificate(ctx, id, u)
				if err != nil {
					return err
				}
				return a.printValidation(ctx, c, v, o.json)
			})
		},
	}
	cmd.Flags().StringArrayVar(&o.intermediates, "intermediate", nil, "a file of intermediate certificates sent separately (repeatable)")
	o.password.bind(cmd, "password", "password of a PFX file")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

// upload reads the certificate file, the intermediates and the password.
func (o *acquisitionUploadOptions) upload(cmd *cobra.Command, file string) (client.Upload, error) {
	var u client.Upload
	var err error
	if u.Data, err = readInputFile(file); err != nil {
		return u, err
	}
	for _, f := range o.intermediates {
		data, err := readInputFile(f)
		if err != nil {
			return u, err
		}
		u.Intermediates = append(u.Intermediates, data)
	}
	pw, err := o.password.bytes(cmd)
	u.Password = string(pw)
	return u, err
}

// readInputFile reads a certificate file of bounded size; the error names
// the file.
func readInputFile(name string) ([]byte, error) {
	data, err := importer.ReadFile(name)
	var pe *fs.PathError
	if err != nil && !errors.As(err, &pe) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, err
}

func (a *app) acquisitionSwitchCommand() *cobra.Command {
	var asJSON bool
	cmd := a.acquisitionIDCommand("switch ID", "Make the received certificate the definition's current certificate",
		func(ctx context.Context, c *client.Client, id int64) error {
			p, err := c.Switch(ctx, id)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.env.Stdout, p)
			}
			fmt.Fprintf(a.env.Stdout, "certificate %d is now the current certificate of %s (acquisition %d %s)\n",
				p.CertificateID, first(p.Definition, newAPINames(c).definition(ctx, p.DefinitionID)), p.ID, p.State)
			return nil
		})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) acquisitionCancelCommand() *cobra.Command {
	var reason string
	var asJSON bool
	cmd := a.acquisitionIDCommand("cancel ID --reason TEXT", "Abandon an open process, saying why",
		func(ctx context.Context, c *client.Client, id int64) error {
			p, err := c.CancelAcquisition(ctx, id, reason)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.env.Stdout, p)
			}
			fmt.Fprintf(a.env.Stdout, "cancelled acquisition %d of %s\n", p.ID, first(p.Definition, newAPINames(c).definition(ctx, p.DefinitionID)))
			return nil
		})
	cmd.Flags().StringVar(&reason, "reason", "", "why the process is abandoned (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func (a *app) acquisitionChooseIssuerCommand() *cobra.Command {
	var issuer, product string
	var asJSON bool
	cmd := a.acquisitionIDCommand("choose-issuer ID --issuer NAME [--product NAME]",
		"Change the issuer and product of a process whose request is ready",
		func(ctx context.Context, c *client.Client, id int64) error {
			n := newAPINames(c)
			var in client.IssuerChoice
			var err error
			if in.IssuerID, in.ProductID, err = issuerAndProduct(ctx, n, issuer, product, 0); err != nil {
				return err
			}
			p, err := c.ChooseIssuer(ctx, id, in)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.env.Stdout, p)
			}
			iss := n.issuer(ctx, p.IssuerID)
			fmt.Fprintf(a.env.Stdout, "acquisition %d now uses issuer %s, product %s\n", p.ID, iss.Name, n.product(ctx, p.IssuerID, p.ProductID))
			fmt.Fprintln(a.env.Stdout, nextStep(p, iss.Kind))
			return nil
		})
	cmd.Flags().StringVar(&issuer, "issuer", "", "the issuer's name (required)")
	cmd.Flags().StringVar(&product, "product", "", "the product's name (default: the issuer's only product)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("issuer")
	return cmd
}
