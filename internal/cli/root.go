// Package cli implements the certkeeper command line: one cobra command
// per file, all sharing the configuration and lazily opened inventory of
// an app value.
package cli

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"
)

// Env is what the command line gets from the process. Tests give their own.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment; nil means an empty environment.
	Getenv func(string) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Version is printed by "certkeeper version".
	Version string
	// StderrIsTerminal enables progress bars.
	StderrIsTerminal bool
}

// Execute runs the command line with args (without the program name). The
// returned error is meant to be printed as one line.
func Execute(ctx context.Context, args []string, env Env) error {
	a := newApp(env)
	defer a.close()
	root := a.rootCommand()
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "certkeeper",
		Short: "Manage the whole life of TLS certificates",
		Long: "certkeeper keeps an inventory of keys and certificates in every format, " +
			"checks what servers really serve, and warns before anything expires.",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			a.creating = inventoryCreators[cmd.CommandPath()]
			return a.localOnly(cmd)
		},
	}
	root.SetIn(a.env.Stdin)
	root.SetOut(a.env.Stdout)
	root.SetErr(a.env.Stderr)
	a.cfg.bindFlags(root)
	root.AddCommand(
		a.versionCommand(),
		a.inspectCommand(),
		a.convertCommand(),
		a.importCommand(),
		a.listCommand(),
		a.timelineCommand(),
		a.exportCommand(),
		a.rekeyCommand(),
		a.serveCommand(),
		a.caCommand(),
		a.kitCommand(),
		a.definitionCommand(),
		a.userCommand(),
		a.tokenCommand(),
		a.auditCommand(),
		a.acquisitionCommand(), a.keyCommand(), a.certificateCommand(),
		a.agentCommand(),
		a.trustCommand(),
		a.alertCommand(),
	)
	root.AddCommand(a.catalogueCommands()...) // issuer, product, vendor-account
	root.AddCommand(a.targetCommand(), a.presetCommand(), a.deployCommand(), a.deploymentCommand(),
		a.packageCommand(), a.installCommand(), a.checkCommand())
	root.AddCommand(a.outboundCommand(), a.notifyCommand(), a.jobsCommand(), a.digestCommand())
	root.AddCommand(a.monitorCommand())
	return root
}
