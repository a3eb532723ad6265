package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/atomicfile"
	"github.com/certkeeper/certkeeper/internal/format"
	"github.com/certkeeper/certkeeper/internal/importer"
)

type outputOptions struct {
	to          string
	out         string
	outPassword secretFlag
	alias       string
	force       bool
}

func (o *outputOptions) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.to, "to", "", "output format: "+targetNames())
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "output file, or - for standard output (text formats only)")
	o.outPassword.bind(cmd, "out-password", "password protecting pfx/jks output, or encrypting the key in key/combined-pem output")
	cmd.Flags().StringVar(&o.alias, "alias", "", "key-store alias or PKCS#12 friendly name (default certkeeper)")
	cmd.Flags().BoolVar(&o.force, "force", false, "replace the output file if it exists")
	_ = cmd.MarkFlagRequired("to")
	_ = cmd.MarkFlagRequired("out")
}

func targetNames() string {
	names := make([]string, len(format.Targets))
	for i, t := range format.Targets {
		names[i] = string(t)
	}
	return strings.Join(names, "|")
}

func (a *app) convertCommand() *cobra.Command {
	var (
		password secretFlag
		out      outputOptions
	)
	cmd := &cobra.Command{
		Use:   "convert IN --to FORMAT --out FILE",
		Short: "Convert a certificate or key file from any format to another",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := format.ParseTarget(out.to)
			if err != nil {
				return err
			}
			pw, err := password.bytes(cmd)
			if err != nil {
				return err
			}
			data, err := importer.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			b, err := format.Decode(data, pw)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			return a.writeOutput(cmd, b, target, &out)
		},
	}
	password.bind(cmd, "password", "password of the input file")
	out.bind(cmd)
	return cmd
}

// writeOutput encodes b and writes it atomically: a key-bearing output is
// created with mode 0600, anything else 0644.
func (a *app) writeOutput(cmd *cobra.Command, b *format.Bundle, t format.Target, o *outputOptions) error {
	pw, err := o.outPassword.bytes(cmd)
	if err != nil {
		return err
	}
	if pw == nil && needsPassword(t) {
		return fmt.Errorf("--to %s needs --out-password or --out-password-file (the password protecting the key store)", t)
	}
	data, err := format.Encode(b, t, format.EncodeOptions{Password: pw, Alias: o.alias})
	if err != nil {
		return err
	}
	if o.out == "-" {
		if isBinary(t) {
			return fmt.Errorf("--out -: %s output is binary; write it to a file", t)
		}
		_, err := a.env.Stdout.Write(data)
		return err
	}
	mode := os.FileMode(0o644)
	if carriesKey(t) && b.Key != nil {
		mode = 0o600
	}
	return writeFileAtomic(o.out, data, mode, o.force)
}

func isBinary(t format.Target) bool {
	return t == format.TargetDER || t == format.TargetP7B || t == format.TargetPFX ||
		t == format.TargetPFXLegacy || t == format.TargetJKS
}

func needsPassword(t format.Target) bool {
	return t == format.TargetPFX || t == format.TargetPFXLegacy || t == format.TargetJKS
}

func carriesKey(t format.Target) bool {
	return t == format.TargetKey || t == format.TargetCombinedPEM || t == format.TargetPFX ||
		t == format.TargetPFXLegacy || t == format.TargetJKS
}

// writeFileAtomic writes data atomically, refusing to replace an existing
// path unless force is set.
func writeFileAtomic(path string, data []byte, mode os.FileMode, force bool) error {
	if _, err := os.Lstat(path); err == nil && !force {
		return fmt.Errorf("%s exists; use --force to replace it", path)
	}
	return atomicfile.Write(path, data, mode)
}
