package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

func (a *app) keyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "List the private keys held in the inventory, see what uses them, export them (audited)",
	}
	cmd.AddCommand(a.keyListCommand(), a.keyShowCommand(), a.keyExportCommand())
	return cmd
}

func (a *app) keyListCommand() *cobra.Command {
	var p client.Page
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List private keys (never their material)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				list, err := c.ListKeys(ctx, p)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, list)
				}
				writeKeyList(a.env.Stdout, list)
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&p.Limit, "limit", 100, "page size (at most 1000)")
	cmd.Flags().StringVar(&p.After, "after", "", "cursor printed with the previous page")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeKeyList(w io.Writer, list *client.KeyList) {
	if len(list.Items) == 0 {
		fmt.Fprintln(w, "no keys")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tALGORITHM\tBITS\tCREATED\tSPKI SHA-256\tLABELS")
	for _, k := range list.Items {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.Bits, k.CreatedAt.UTC().Format(time.DateOnly),
			k.SPKISHA256, orDash(strings.Join(k.Labels, ",")))
	}
	tw.Flush()
	if list.Next != "" {
		fmt.Fprintf(w, "more: --after %s\n", list.Next)
	}
}

func (a *app) keyShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID [--json]",
		Short: "Show a key and the certificates and acquisition processes that use it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("key", args[0])
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				k, err := c.GetKey(ctx, id)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, k)
				}
				return a.writeKey(ctx, c, k)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// writeKey prints a key with what uses it, looking up the certificates'
// subjects and the processes' definitions.
func (a *app) writeKey(ctx context.Context, c *client.Client, k *client.Key) error {
	w := a.env.Stdout
	fmt.Fprintf(w, "key %d\n", k.ID)
	fmt.Fprintf(w, "  algorithm     %s %d\n", k.Algorithm, k.Bits)
	fmt.Fprintf(w, "  SPKI SHA-256  %s\n", colonHex(k.SPKISHA256))
	fmt.Fprintf(w, "  created       %s\n", stamp(k.CreatedAt))
	fmt.Fprintf(w, "  labels        %s\n", orDash(strings.Join(k.Labels, ", ")))
	certs, err := c.ListCertificates(ctx, client.CertificateQuery{KeyID: k.ID})
	if err != nil {
		return err
	}
	now := a.env.Now()
	fmt.Fprintf(w, "Certificates with this key: %d\n", len(certs.Items))
	for _, x := range certs.Items {
		fmt.Fprintf(w, "  %d  %s  expires %s (%s, %s)\n", x.ID, first(x.CommonName, x.Subject),
			x.NotAfter.UTC().Format(time.DateOnly), daysText(daysLeft(now, x.NotAfter)), x.Status)
	}
	acqs, err := c.ListAcquisitions(ctx, client.AcquisitionQuery{KeyID: k.ID})
	if err != nil {
		return err
	}
	n := newAPINames(c)
	fmt.Fprintf(w, "Acquisition processes with this key: %d\n", len(acqs.Items))
	for _, p := range acqs.Items {
		fmt.Fprintf(w, "  %d  %s  %s, %s\n", p.ID, n.definition(ctx, p.DefinitionID), p.Kind, p.State)
	}
	return nil
}

type keyExportOptions struct {
	format, out string
	certificate int64
	password    secretFlag
	force       bool
}

func (a *app) keyExportCommand() *cobra.Command {
	var o keyExportOptions
	cmd := &cobra.Command{
		Use:   "export ID --format pem|pkcs8|pfx|jks [--certificate ID] [--password-file F] --out FILE",
		Short: "Write a private key to a file (mode 0600); admins only on a server, and audited",
		Long: "export writes the private key: pem (PKCS#8; with --certificate, the chain then the key),\n" +
			"pkcs8 (PKCS#8 DER), pfx or jks (with the certificate, by default the key's latest one, and\n" +
			"its chain; a password is required). The password encrypts pem and pkcs8 output when given.\n" +
			"On a server only admins may export; every export is recorded in the audit trail.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("key", args[0])
			if err != nil {
				return err
			}
			return a.runKeyExport(cmd, id, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "", "pem, pkcs8, pfx or jks (required)")
	f.Int64Var(&o.certificate, "certificate", 0, "bundle this certificate (ID) and its chain with the key")
	o.password.bind(cmd, "password", "password protecting the file (required for pfx and jks)")
	f.StringVarP(&o.out, "out", "o", "", "output file (required; - for standard output, pem only)")
	f.BoolVar(&o.force, "force", false, "replace the output file if it exists")
	_ = cmd.MarkFlagRequired("format")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func (a *app) runKeyExport(cmd *cobra.Command, id int64, o *keyExportOptions) error {
	pw, err := o.password.bytes(cmd)
	if err != nil {
		return err
	}
	if pw == nil && (o.format == "pfx" || o.format == "jks") {
		return fmt.Errorf("--format %s needs --password-file or --password (the password protecting the key store)", o.format)
	}
	if o.out == "-" && o.format != "pem" {
		return fmt.Errorf("--out -: %s output is binary; write it to a file", o.format)
	}
	if _, err := os.Lstat(o.out); err == nil && o.out != "-" && !o.force {
		return fmt.Errorf("%s exists; use --force to replace it", o.out)
	}
	return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
		data, err := c.ExportKey(ctx, id, client.KeyExport{Format: o.format, Password: string(pw), CertificateID: o.certificate})
		if err != nil {
			return err
		}
		if o.out == "-" {
			_, err := a.env.Stdout.Write(data)
			return err
		}
		if err := writeFileAtomic(o.out, data, 0o600, o.force); err != nil {
			return err
		}
		fmt.Fprintf(a.env.Stdout, "wrote private key %d as %s to %s (mode 0600); the export is recorded in the audit trail\n",
			id, o.format, o.out)
		return nil
	})
}
