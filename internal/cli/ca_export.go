package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/cainstaller"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/inventory"
)

func (a *app) caExportCommands() []*cobra.Command {
	return []*cobra.Command{a.caExportCommand(), a.caInstallerCommand()}
}

type caExportOptions struct {
	caName, to, out string
	root, force     bool
}

func (a *app) caExportCommand() *cobra.Command {
	var o caExportOptions
	cmd := &cobra.Command{
		Use:   "export [--ca NAME] --to pem|der|p7b --out FILE",
		Short: "Write a CA's certificate (pem, der) or its whole chain (p7b)",
		Long: "export writes the CA's own certificate as PEM or DER (with --root, the root of its\n" +
			"chain instead), or with --to p7b its whole chain up to the root as PKCS#7.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runCAExport(cmd.Context(), &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.caName, "ca", "", "CA name (default: the default CA)")
	f.StringVar(&o.to, "to", "", "output format: pem, der or p7b")
	f.StringVarP(&o.out, "out", "o", "", "output file, or - for standard output (pem only)")
	f.BoolVar(&o.root, "root", false, "export the root of the CA's chain instead of the CA's own certificate")
	f.BoolVar(&o.force, "force", false, "replace the output file if it exists")
	_ = cmd.MarkFlagRequired("to")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func (a *app) runCAExport(ctx context.Context, o *caExportOptions) error {
	t := format.Target(strings.ToLower(o.to))
	if t != format.TargetPEM && t != format.TargetDER && t != format.TargetP7B {
		return fmt.Errorf("ca: export: --to %q: use pem, der or p7b", o.to)
	}
	if o.out == "-" && t != format.TargetPEM {
		return fmt.Errorf("ca: export: --out -: %s output is binary; write it to a file", t)
	}
	chain, err := a.caChain(ctx, o.caName)
	if err != nil {
		return err
	}
	certs := chain[:1]
	switch {
	case t == format.TargetP7B:
		certs = chain
	case o.root:
		certs = chain[len(chain)-1:]
	}
	if t == format.TargetPEM {
		t = format.TargetCert // one certificate, PEM
	}
	data, err := format.Encode(&format.Bundle{Chain: certs}, t, format.EncodeOptions{})
	if err != nil {
		return err
	}
	if o.out == "-" {
		_, err := a.env.Stdout.Write(data)
		return err
	}
	return writeFileAtomic(o.out, data, 0o644, o.force)
}

type caInstallerOptions struct {
	caName, out, name string
	force             bool
}

func (a *app) caInstallerCommand() *cobra.Command {
	var o caInstallerOptions
	cmd := &cobra.Command{
		Use:   "installer [--ca NAME] --out FILE.zip",
		Short: "Write a zip that installs a CA's root in trust stores (PEM, DER, P7B and instructions)",
		Long: "installer writes a zip holding the root of the CA's chain as NAME.crt (PEM) and NAME.cer\n" +
			"(DER), the chain as NAME-chain.p7b, and README.txt with step-by-step instructions for\n" +
			"Debian/Ubuntu, RHEL/Fedora, Windows, macOS, Java and Firefox/NSS trust stores.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runCAInstaller(cmd.Context(), &o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.caName, "ca", "", "CA name (default: the default CA)")
	f.StringVarP(&o.out, "out", "o", "", "zip file to write")
	f.StringVar(&o.name, "name", "", "base name of the files in the zip (default: from the root's common name)")
	f.BoolVar(&o.force, "force", false, "replace the output file if it exists")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func (a *app) runCAInstaller(ctx context.Context, o *caInstallerOptions) error {
	if o.name != "" && (strings.ContainsAny(o.name, `/\`) || o.name == "." || o.name == "..") {
		return fmt.Errorf("ca: installer: --name %q must be a plain file name", o.name)
	}
	chain, err := a.caChain(ctx, o.caName)
	if err != nil {
		return err
	}
	data, err := cainstaller.Build(chain, cainstaller.Options{Name: o.name})
	if err != nil {
		return err
	}
	if err := writeFileAtomic(o.out, data, 0o644, o.force); err != nil {
		return err
	}
	name := o.name
	if name == "" {
		name = cainstaller.FileName(chain[len(chain)-1])
	}
	f := cainstaller.FileNames(name)
	_, err = fmt.Fprintf(a.env.Stdout, "%s: %s, %s, %s, %s (root %s)\n", filepath.Clean(o.out), f.PEM, f.DER, f.P7B, f.README, chain[len(chain)-1].Subject)
	return err
}

// caChain returns the chain of the CA called name (the default CA when
// name is ""), the CA's own certificate first and the root last.
func (a *app) caChain(ctx context.Context, name string) ([]*x509.Certificate, error) {
	auth, err := a.authority(ctx)
	if err != nil {
		return nil, err
	}
	c, chain, err := auth.NamedChain(ctx, name)
	if c == nil && errors.Is(err, inventory.ErrNotFound) {
		if name == "" {
			return nil, errors.New("ca: there is no default CA; name one with --ca")
		}
		return nil, fmt.Errorf("ca: no CA is called %q", name)
	}
	return chain, err
}
