package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/atomicfile"
	"github.com/certkeeper/certkeeper/internal/deploy/archive"
	"github.com/certkeeper/certkeeper/internal/deploy/check"
	"github.com/certkeeper/certkeeper/internal/deploy/engine"
	"github.com/certkeeper/certkeeper/internal/deploy/sitereport"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/probe"
)

func (a *app) packageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "package",
		Short: "Make encrypted one-click packages that \"certkeeper install\" installs on the target",
	}
	cmd.AddCommand(a.packageCreateCommand())
	return cmd
}

func (a *app) packageCreateCommand() *cobra.Command {
	var out, passwordFile string
	var force bool
	cmd := &cobra.Command{
		Use:   "create DEPLOYMENT-ID -o FILE [--password-file F]",
		Short: "Write the deployment's encrypted package (certificate, chain, key, files, commands, check)",
		Long: "create seals everything the target needs under a password of 12 characters or more\n" +
			"(asked twice on the terminal when no --password-file is given). On the target,\n" +
			"\"certkeeper install FILE\" asks for it, installs, reloads and checks.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("deployment", args[0])
			if err != nil {
				return err
			}
			pw, err := a.packagePassword(passwordFile, true)
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				data, err := c.DeploymentPackage(ctx, id, client.PackageInput{Password: pw})
				if err != nil {
					return err
				}
				if err := writeFileAtomic(out, data, 0o600, force); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "wrote %s (%d bytes); on the target: certkeeper install %s\n", out, len(data), filepath.Base(out))
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "package file to write (e.g. site.ckpkg)")
	cmd.Flags().StringVar(&passwordFile, "password-file", "", "read the password from the first line of this file (- for standard input)")
	cmd.Flags().BoolVar(&force, "force", false, "replace the output file if it exists")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// packagePassword reads the package password from file, or asks for it on
// the terminal (twice when confirm). A new password (confirm) shorter
// than archive.MinPassword is refused.
func (a *app) packagePassword(file string, confirm bool) (string, error) {
	var pw string
	var err error
	if file != "" {
		if pw, err = a.readSecretFile(file, false); err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
	} else if pw, err = a.askPassword(confirm); err != nil {
		return "", err
	}
	if confirm && utf8.RuneCountInString(pw) < archive.MinPassword {
		return "", fmt.Errorf("the package password must have at least %d characters", archive.MinPassword)
	}
	return pw, nil
}

// askPassword reads a password from the terminal without echo.
func (a *app) askPassword(confirm bool) (string, error) {
	f, ok := a.env.Stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("no terminal to ask the password on: give --password-file FILE (- for standard input)")
	}
	read := func(prompt string) (string, error) {
		fmt.Fprint(a.env.Stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.env.Stderr)
		return string(b), err
	}
	pw, err := read("Package password: ")
	if err != nil || !confirm {
		return pw, err
	}
	again, err := read("Same password again: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", errors.New("the two passwords differ")
	}
	return pw, nil
}

type installOptions struct {
	passwordFile, dir, report string
	noCheck, dryRun           bool
	timeout                   time.Duration
}

func (a *app) installCommand() *cobra.Command {
	var o installOptions
	cmd := &cobra.Command{
		Use:   "install FILE [--password-file F] [--dir DIR] [--no-check] [--report OUT]",
		Short: "Install an encrypted package on this machine: back up, write, test, reload, check",
		Long: "install opens a package made by \"certkeeper package create\" (or attached to an install\n" +
			"request e-mail), shows what it will do, then backs up the files it replaces, writes the\n" +
			"new ones, runs the test and reload commands and checks what the server serves. When a\n" +
			"step fails the previous files are put back. It needs no data directory and no\n" +
			"connection to the manager; --report writes the check for upload to the manager.\n" +
			"The exit status is 1 when anything failed.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.remote() {
				return errors.New("\"certkeeper install\" runs on the target and does not use --server; drop it")
			}
			return a.runInstall(cmd.Context(), args[0], &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.passwordFile, "password-file", "", "read the password from the first line of this file (- for standard input; default: ask)")
	f.StringVar(&o.dir, "dir", "", "install into this directory instead of the package's")
	f.BoolVar(&o.noCheck, "no-check", false, "do not check the server after the install")
	f.StringVar(&o.report, "report", "", "also write a site report of the server's certificate, for \"deployment upload-report\"")
	f.BoolVar(&o.dryRun, "dry-run", false, "show what would be done and stop")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "time limit of the check's connection")
	return cmd
}

func (a *app) runInstall(ctx context.Context, file string, o *installOptions) error {
	data, err := readPackageFile(file)
	if err != nil {
		return err
	}
	pw, err := a.packagePassword(o.passwordFile, false)
	if err != nil {
		return err
	}
	pkg, err := archive.Open(data, pw)
	if err != nil {
		return err
	}
	if err := o.adjust(&pkg.Job); err != nil {
		return err
	}
	writeInstallPlan(a.env.Stdout, pkg)
	if o.dryRun {
		return nil
	}
	out := pkg.Install(ctx, archive.InstallOptions{CheckTimeout: o.timeout, Now: a.env.Now})
	writeOutcome(a.env.Stdout, out)
	if out.Error != "" {
		if out.RolledBack {
			return fmt.Errorf("install failed, the previous files were restored: %s", out.Error)
		}
		return fmt.Errorf("install failed: %s", out.Error)
	}
	if o.report != "" {
		return a.writeInstallReport(ctx, pkg.Job.Check, pkg.Job.ExpectedSHA256, o)
	}
	return nil
}

// adjust applies --dir and --no-check to the package's job.
func (o *installOptions) adjust(j *engine.Job) error {
	if o.dir != "" {
		abs, err := filepath.Abs(o.dir)
		if err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
		j.Plan.Directory = filepath.ToSlash(abs)
	}
	if o.noCheck {
		if o.report != "" {
			return errors.New("--report needs the check: drop --no-check")
		}
		j.Check = inventory.CheckSpec{}
	}
	if o.report != "" && j.Check.Host == "" {
		return errors.New("--report: the package names no server to check; make the report with \"certkeeper check --report FILE HOST:PORT\"")
	}
	return nil
}

func readPackageFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, archive.MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > archive.MaxSize {
		return nil, fmt.Errorf("%s is larger than a package can be (%d bytes)", name, archive.MaxSize)
	}
	return data, nil
}

// writeInstallPlan shows what the install will do.
func writeInstallPlan(w io.Writer, pkg *archive.Package) {
	p := &pkg.Job.Plan
	fmt.Fprintf(w, "package for target %s (preset %s): certificate %s, made %s\n", orDash(pkg.Target), orDash(pkg.Preset),
		orDash(pkg.Certificate), stamp(pkg.Created))
	owner := ""
	if p.Owner != "" {
		owner = ", owner " + p.Owner
	}
	fmt.Fprintf(w, "files to write into %s%s:\n", p.Directory, owner)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range p.Files {
		note := ""
		if f.Secret {
			note = "private key"
		}
		fmt.Fprintf(tw, "  %s\t%04o\t%d bytes\t%s\n", f.Path, f.Mode.Perm(), len(f.Data), note)
	}
	tw.Flush()
	fmt.Fprintf(w, "test command:   %s\nreload command: %s\n", orDash(p.TestCommand), orDash(p.ReloadCommand))
	if c := pkg.Job.Check; c.Host != "" {
		fmt.Fprintf(w, "check:          %s, expecting SHA-256 %s\n", checkText(client.CheckSpec(c)),
			colonHex(pkg.Job.ExpectedSHA256))
	} else {
		fmt.Fprintln(w, "check:          none")
	}
}

// writeOutcome prints what the install did: backup, files, the commands'
// output and the check.
func writeOutcome(w io.Writer, out *engine.Outcome) {
	if r := out.Install; r != nil {
		if r.Backup != "" {
			fmt.Fprintf(w, "backup of the replaced files: %s\n", r.Backup)
		}
		if len(r.Written) > 0 {
			fmt.Fprintf(w, "written: %d file(s)\n", len(r.Written))
		}
		if r.TestOutput != "" {
			fmt.Fprintf(w, "test command output:\n%s", indent(r.TestOutput, "  | "))
		}
		if r.ReloadOutput != "" {
			fmt.Fprintf(w, "reload command output:\n%s", indent(r.ReloadOutput, "  | "))
		}
	}
	if out.Check != nil {
		c := client.CheckResult(*out.Check)
		writeCheck(w, &c, "")
	}
	switch {
	case out.Error == "":
		fmt.Fprintln(w, "installed")
	case out.RolledBack:
		fmt.Fprintln(w, "rolled back: the previous files were restored")
	}
}

// writeInstallReport writes a site report of the server the job checks.
// A reloaded server may still answer a connection or two with its old
// certificate, so the report is made again, for a few seconds, while it
// does not show the expected one.
func (a *app) writeInstallReport(ctx context.Context, spec inventory.CheckSpec, expected string, o *installOptions) error {
	addr := check.Address(spec)
	r, err := sitereport.MakeServing(ctx, addr, probe.Options{ServerName: spec.SNI, Timeout: o.timeout,
		StartTLS: probe.StartTLS(spec.StartTLS)}, expected,
		reportSettle, 200*time.Millisecond, a.env.Now)
	if r == nil {
		return err
	}
	r.Tool = "certkeeper " + a.env.Version
	data, mErr := r.Marshal()
	if mErr != nil {
		return mErr
	}
	if wErr := atomicfile.Write(o.report, data, 0o644); wErr != nil {
		return fmt.Errorf("report: %w", wErr)
	}
	if err != nil {
		return fmt.Errorf("installed, but %s could not be observed for the report (%v)", addr, err)
	}
	fmt.Fprintf(a.env.Stdout, "report written to %s: upload it with certkeeper deployment upload-report\n", o.report)
	return nil
}

// reportSettle is how long install --report waits for the server to
// show the installed certificate.
const reportSettle = 5 * time.Second
