package cli

import "github.com/spf13/cobra"

func (a *app) caCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Run certkeeper's private certificate authorities",
	}
	cmd.AddCommand(a.caAuthorityCommands()...)
	cmd.AddCommand(a.caRevocationCommands()...)
	cmd.AddCommand(a.caExportCommands()...)
	cmd.AddCommand(a.caPolicyCommand())
	return cmd
}
