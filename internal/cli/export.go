package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/format"
)

func (a *app) exportCommand() *cobra.Command {
	var (
		out   outputOptions
		noKey bool
	)
	cmd := &cobra.Command{
		Use:   "export ID|SHA256... --to FORMAT --out FILE|DIR",
		Short: "Export a certificate, its chain and (where the format holds one) its private key",
		Long: "export writes a stored certificate with its known chain. Formats that hold a key\n" +
			"(key, combined-pem, pfx, pfx-legacy, jks) include the private key when the inventory\n" +
			"has it; every key export is recorded in the audit trail. Files with a key are mode 0600.\n" +
			"When --out is a directory (one that exists, or a path ending in /), each certificate\n" +
			"goes to its own file there, named after its common name and ID (www.example.com-42.pfx);\n" +
			"several certificates need a directory.\n" +
			"With --server the certificate, its chain and its key come from the server's API (the\n" +
			"key export needs an admin token and is audited by the server).",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := format.ParseTarget(out.to)
			if err != nil {
				return err
			}
			dir, err := exportDir(out.out, len(args))
			if err != nil {
				return err
			}
			for _, ref := range args {
				if err := a.exportOne(cmd, ref, target, out, dir, carriesKey(target) && !noKey); err != nil {
					return err
				}
			}
			return nil
		},
	}
	out.bind(cmd)
	cmd.Flags().BoolVar(&noKey, "no-key", false, "never include the private key")
	return cmd
}

// exportOne writes one certificate to o.out, or into o.out when dir is
// set.
func (a *app) exportOne(cmd *cobra.Command, ref string, target format.Target, o outputOptions, dir, withKey bool) error {
	if a.remote() {
		b, err := a.remoteExportBundle(cmd.Context(), ref, withKey)
		if err != nil {
			return err
		}
		return a.writeExport(cmd, b, ref, target, o, dir)
	}
	return a.exportLocal(cmd, ref, target, o, dir, withKey)
}

// exportLocal writes a certificate of the local inventory. The export
// service audits a key export before it hands out the key, so that no key
// leaves unaudited.
func (a *app) exportLocal(cmd *cobra.Command, ref string, target format.Target, o outputOptions, dir, withKey bool) error {
	s, err := a.stack(cmd.Context())
	if err != nil {
		return err
	}
	b, err := s.Export.CertificateByRef(cmd.Context(), a.actor(), ref, string(target), withKey)
	if err != nil {
		return err
	}
	return a.writeExport(cmd, b, ref, target, o, dir)
}

// writeExport writes b to o.out or, when dir is set, to its own file in
// that directory, and then says where.
func (a *app) writeExport(cmd *cobra.Command, b *format.Bundle, ref string, target format.Target, o outputOptions, dir bool) error {
	if !dir {
		return a.writeOutput(cmd, b, target, &o)
	}
	o.out = filepath.Join(o.out, exportFileName(b, ref, target))
	if err := a.writeOutput(cmd, b, target, &o); err != nil {
		return err
	}
	_, err := fmt.Fprintf(a.env.Stdout, "%s: %s\n", ref, o.out)
	return err
}

// exportDir reports whether --out names a directory: one that exists, or
// a path ending in a slash (created, mode 0700). Several certificates
// need one.
func exportDir(out string, n int) (bool, error) {
	if strings.HasSuffix(out, "/") {
		if err := os.MkdirAll(out, 0o700); err != nil {
			return false, fmt.Errorf("--out: %w", err)
		}
		return true, nil
	}
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		return true, nil
	}
	if n > 1 {
		return false, fmt.Errorf("--out %s: several certificates go to a directory; give one (ending in /)", out)
	}
	return false, nil
}

// exportSuffixes end the file names of export --out DIR per format.
var exportSuffixes = map[format.Target]string{
	format.TargetPEM: ".pem", format.TargetCert: "-cert.pem", format.TargetChain: "-chain.pem",
	format.TargetFullchain: "-fullchain.pem", format.TargetKey: "-key.pem", format.TargetCombinedPEM: "-combined.pem",
	format.TargetDER: ".cer", format.TargetP7B: ".p7b", format.TargetPFX: ".pfx", format.TargetPFXLegacy: ".pfx",
	format.TargetJKS: ".jks",
}

// exportFileName names a certificate's file: its common name (else first
// DNS name, else "certificate"), then the ID or the start of the SHA-256
// it was asked by, then the format's suffix; "*." becomes "wildcard.".
func exportFileName(b *format.Bundle, ref string, t format.Target) string {
	name := "certificate"
	if len(b.Chain) > 0 {
		leaf := b.Chain[0]
		name = first(leaf.Subject.CommonName, firstOf(leaf.DNSNames), name)
	}
	name = strings.Replace(name, "*.", "wildcard.", 1)
	name = strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(".-_", r)) {
			return r
		}
		return '_'
	}, name)
	ref = strings.TrimPrefix(ref, "#")
	if len(ref) == 64 {
		ref = ref[:12]
	}
	return strings.TrimLeft(name, ".") + "-" + ref + exportSuffixes[t]
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
