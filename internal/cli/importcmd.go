package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/internal/importer"
)

func (a *app) importCommand() *cobra.Command {
	var (
		password secretFlag
		asJSON   bool
		progress bool
	)
	cmd := &cobra.Command{
		Use:   "import [--password P] FILE...",
		Short: "Import certificates and keys from files in any format into the inventory",
		Long: "import reads every file first; if any file cannot be read, nothing is stored.\n" +
			"Importing the same file again adds nothing. Keys are linked to their certificates\n" +
			"and certificates to their issuers, whatever order they arrive in.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := password.bytes(cmd)
			if err != nil {
				return err
			}
			srcs := make([]importer.Source, len(args))
			for i, name := range args {
				srcs[i] = importer.Source{Name: name, Password: pw}
			}
			bar := a.progressBar(len(args) > 1 && (progress || a.env.StderrIsTerminal) && !asJSON)
			sum, err := a.runImport(cmd.Context(), srcs, bar)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.env.Stdout, newImportView(sum))
			}
			writeImportText(a.env.Stdout, sum)
			return nil
		},
	}
	password.bind(cmd, "password", "password of encrypted files")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVar(&progress, "progress", false, "show a progress bar even when standard error is not a terminal")
	return cmd
}

// runImport imports srcs into the local inventory, or through --server.
func (a *app) runImport(ctx context.Context, srcs []importer.Source, bar importer.Progress) (*importer.Summary, error) {
	if a.remote() {
		return a.remoteImport(ctx, srcs)
	}
	s, err := a.stack(ctx)
	if err != nil {
		return nil, err
	}
	return s.Importer.Import(ctx, a.actor(), srcs, bar)
}

// progressBar returns a Progress that draws a bar on standard error, or
// nil when show is false.
func (a *app) progressBar(show bool) importer.Progress {
	if !show {
		return nil
	}
	var bar *progressbar.ProgressBar
	stage := ""
	return func(s string, done, total int) {
		if s != stage {
			if bar != nil {
				_ = bar.Finish()
			}
			stage = s
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(a.env.Stderr),
				progressbar.OptionSetDescription(fmt.Sprintf("%-8s", s)), progressbar.OptionShowCount(),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.env.Stderr) }))
		}
		_ = bar.Set(done)
	}
}

func writeImportText(w io.Writer, sum *importer.Summary) {
	for _, f := range sum.Files {
		fmt.Fprintf(w, "%s (%s)\n", f.Name, f.Kind)
		for _, c := range f.Certificates {
			fmt.Fprintf(w, "  certificate %-6d %s  %s  expires %s\n", c.ID, addedText(c.Added),
				c.Subject, c.NotAfter.Format("2006-01-02"))
		}
		if k := f.Key; k != nil {
			match := ""
			if k.MatchesLeaf {
				match = ", matches the leaf"
			}
			fmt.Fprintf(w, "  key         %-6d %s  %s %d%s\n", k.ID, addedText(k.Added), k.Algorithm, k.Bits, match)
		}
	}
	fmt.Fprintf(w, "%d certificates added, %d already present; %d keys added, %d already present\n",
		sum.CertsAdded, sum.CertsExisting, sum.KeysAdded, sum.KeysExisting)
}

func addedText(added bool) string {
	if added {
		return "added  "
	}
	return "present"
}

type importView struct {
	CertificatesAdded    int              `json:"certificates_added"`
	CertificatesExisting int              `json:"certificates_existing"`
	KeysAdded            int              `json:"keys_added"`
	KeysExisting         int              `json:"keys_existing"`
	Files                []importFileView `json:"files"`
}

type importFileView struct {
	Name         string             `json:"name"`
	Kind         string             `json:"kind"`
	Certificates []importedCertView `json:"certificates"`
	Key          *importedKeyView   `json:"key"`
}

type importedKeyView struct {
	ID          int64  `json:"id"`
	Type        string `json:"type"`
	Bits        int    `json:"bits"`
	Added       bool   `json:"added"`
	MatchesLeaf bool   `json:"matches_leaf"`
}

type importedCertView struct {
	ID     int64  `json:"id"`
	SHA256 string `json:"sha256"`
	Added  bool   `json:"added"`
}

func newImportView(sum *importer.Summary) importView {
	v := importView{CertificatesAdded: sum.CertsAdded, CertificatesExisting: sum.CertsExisting,
		KeysAdded: sum.KeysAdded, KeysExisting: sum.KeysExisting, Files: []importFileView{}}
	for _, f := range sum.Files {
		fv := importFileView{Name: f.Name, Kind: string(f.Kind), Certificates: []importedCertView{}}
		if k := f.Key; k != nil {
			fv.Key = &importedKeyView{ID: k.ID, Type: string(k.Algorithm), Bits: k.Bits, Added: k.Added, MatchesLeaf: k.MatchesLeaf}
		}
		for _, c := range f.Certificates {
			fv.Certificates = append(fv.Certificates, importedCertView{ID: c.ID, SHA256: c.SHA256, Added: c.Added})
		}
		v.Files = append(v.Files, fv)
	}
	return v
}
