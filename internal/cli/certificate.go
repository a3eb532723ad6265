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

func (a *app) certificateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "certificate",
		Aliases: []string{"cert"},
		Short:   "Show a certificate of the inventory and its chain (list and export are top-level commands)",
	}
	cmd.AddCommand(a.certificateShowCommand(), a.certificateChainCommand())
	return cmd
}

// certificateRef resolves a certificate ID or SHA-256 fingerprint (hex,
// with or without colons) to an ID.
func certificateRef(ctx context.Context, c *client.Client, ref string) (int64, error) {
	fp := strings.ToLower(strings.ReplaceAll(ref, ":", ""))
	if len(fp) != 64 {
		return parseObjectID("certificate", ref)
	}
	list, err := c.ListCertificates(ctx, client.CertificateQuery{Q: fp})
	if err != nil {
		return 0, err
	}
	for _, x := range list.Items {
		if x.SHA256 == fp {
			return x.ID, nil
		}
	}
	return 0, fmt.Errorf("no certificate with SHA-256 fingerprint %s", fp)
}

func (a *app) certificateShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID|SHA256 [--json]",
		Short: "Show a certificate: names, validity, status, key, fingerprints and chain",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				id, err := certificateRef(ctx, c, args[0])
				if err != nil {
					return err
				}
				cert, err := c.GetCertificate(ctx, id)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, cert)
				}
				chain, err := c.CertificateChain(ctx, id)
				if err != nil {
					return err
				}
				a.writeCertificate(cert, chain)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (with the PEM and the chain's IDs)")
	return cmd
}

func (a *app) writeCertificate(c *client.Certificate, chain *client.CertificateList) {
	w := a.env.Stdout
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("certificate", "%d", c.ID)
	row("subject", "%s", c.Subject)
	if len(c.SANs) > 0 {
		row("names", "%s", strings.Join(c.SANs, ", "))
	}
	row("issuer", "%s", c.Issuer)
	row("serial", "%s", c.Serial)
	row("valid", "%s to %s (%s)", c.NotBefore.UTC().Format(time.DateOnly), c.NotAfter.UTC().Format(time.DateOnly),
		daysText(daysLeft(a.env.Now(), c.NotAfter)))
	status := c.Status
	if c.RevokedAt != nil {
		status += " at " + stamp(*c.RevokedAt)
	}
	row("status", "%s", status)
	row("key", "%s %d, signed with %s", c.KeyAlgorithm, c.KeyBits, c.SignatureAlgorithm)
	if c.KeyHeld {
		row("private key", "held (key %d)", c.KeyID)
	} else {
		row("private key", "not held")
	}
	row("SPKI SHA-256", "%s", colonHex(c.SPKISHA256))
	row("SHA-256", "%s", colonHex(c.SHA256))
	row("SHA-1", "%s", colonHex(c.SHA1))
	if c.IsCA {
		kind := "yes"
		if c.SelfSigned {
			kind = "yes, self-signed root"
		}
		row("CA", "%s", kind)
	}
	row("source", "%s", orDash(c.Source))
	if len(c.Labels) > 0 {
		row("labels", "%s", strings.Join(c.Labels, ", "))
	}
	row("added", "%s", stamp(c.CreatedAt))
	tw.Flush()
	fmt.Fprintln(w, "\nChain (leaf first):")
	writeChain(w, chain, a.env.Now())
}

func (a *app) certificateChainCommand() *cobra.Command {
	var asJSON, asPEM bool
	cmd := &cobra.Command{
		Use:   "chain ID|SHA256 [--pem | --json]",
		Short: "Show the certificate and the issuers the inventory knows, leaf first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && asPEM {
				return fmt.Errorf("give --pem or --json, not both")
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				id, err := certificateRef(ctx, c, args[0])
				if err != nil {
					return err
				}
				if asPEM {
					data, err := c.DownloadCertificate(ctx, id, "pem")
					if err != nil {
						return err
					}
					_, err = a.env.Stdout.Write(data)
					return err
				}
				chain, err := c.CertificateChain(ctx, id)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, chain)
				}
				writeChain(a.env.Stdout, chain, a.env.Now())
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asPEM, "pem", false, "print the chain in PEM")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeChain(w io.Writer, chain *client.CertificateList, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSUBJECT\tEXPIRES\tDAYS\tSTATUS\tSHA-256")
	for _, c := range chain.Items {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", c.ID, shortName(c.CommonName, c.Subject),
			c.NotAfter.UTC().Format(time.DateOnly), daysLeft(now, c.NotAfter), c.Status, c.SHA256)
	}
	tw.Flush()
	if n := len(chain.Items); n > 0 && !chain.Items[n-1].SelfSigned {
		fmt.Fprintf(w, "the inventory does not hold the issuer of %q; import it to complete the chain\n", chain.Items[n-1].Issuer)
	}
}
