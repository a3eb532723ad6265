package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/atomicfile"
	"github.com/certkeeper/certkeeper/internal/definitions"
)

func (a *app) documentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "doc",
		Short: "Manage the document folder of a definition (orders, forms, correspondence)",
	}
	cmd.AddCommand(a.documentAddCommand(), a.documentListCommand(), a.documentGetCommand(), a.documentRemoveCommand())
	return cmd
}

func (a *app) documentAddCommand() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "add NAME FILE [--name DOCNAME]",
		Short: "Add a file (at most 10 MiB) to a definition's documents",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			content, err := readDocument(args[1])
			if err != nil {
				return err
			}
			if name == "" {
				name = filepath.Base(args[1])
			}
			if name, err = definitions.DocumentName(name); err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := c.DefinitionByName(ctx, args[0])
				if err != nil {
					return err
				}
				if err := refuseReplace(ctx, c, d, name); err != nil {
					return err
				}
				doc, err := c.PutDocument(ctx, d.ID, name, content)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "added document %s (%d bytes) to %s\n", doc.Name, doc.Size, args[0])
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "document name (default: the file's base name)")
	return cmd
}

// refuseReplace refuses to add a document under a name the definition's
// folder already holds (the API's PUT would replace it).
func refuseReplace(ctx context.Context, c *client.Client, d *client.Definition, name string) error {
	docs, err := c.ListDocuments(ctx, d.ID)
	if err != nil {
		return err
	}
	for _, doc := range docs.Items {
		if doc.Name == name {
			return fmt.Errorf("%q already has a document %q; remove it first with \"definition doc rm\"", d.Name, name)
		}
	}
	return nil
}

// readDocument reads file, refusing one over the document size limit
// without reading it all.
func readDocument(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, definitions.MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(b) > definitions.MaxDocumentSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes (10 MiB)", definitions.ErrTooLarge, file, definitions.MaxDocumentSize)
	}
	return b, nil
}

func (a *app) documentListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list NAME [--json]",
		Short: "List a definition's documents",
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
				views := newDocumentViews(docs.Items)
				if asJSON {
					return writeJSON(a.env.Stdout, struct {
						Documents []documentView `json:"documents"`
					}{views})
				}
				if len(views) == 0 {
					fmt.Fprintln(a.env.Stdout, "no documents")
				}
				for _, d := range views {
					fmt.Fprintf(a.env.Stdout, "%s\t%d bytes\t%s\n", d.Name, d.Size, d.CreatedAt.Format("2006-01-02 15:04"))
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) documentGetCommand() *cobra.Command {
	var (
		out   string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "get NAME DOCNAME --out FILE",
		Short: "Write a document to a file (\"-\" for standard output)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("give --out FILE, or --out - for standard output")
			}
			if out != "-" && !force {
				if _, err := os.Stat(out); err == nil {
					return fmt.Errorf("%s exists; give --force to overwrite it", out)
				}
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := c.DefinitionByName(ctx, args[0])
				if err != nil {
					return err
				}
				content, err := c.GetDocument(ctx, d.ID, args[1])
				if err != nil {
					return err
				}
				if out == "-" {
					_, err := a.env.Stdout.Write(content)
					return err
				}
				return atomicfile.Write(out, content, 0o600)
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write, or - for standard output")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}

func (a *app) documentRemoveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME DOCNAME",
		Short: "Remove a document",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := c.DefinitionByName(ctx, args[0])
				if err != nil {
					return err
				}
				if err := c.DeleteDocument(ctx, d.ID, args[1]); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "removed document %s from %s\n", args[1], args[0])
				return nil
			})
		},
	}
}
