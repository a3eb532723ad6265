package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

// deployConcurrency bounds the installs "certkeeper deploy" runs at once.
const deployConcurrency = 8

type deployOptions struct {
	verbose, json, progress bool
}

func (a *app) deployCommand() *cobra.Command {
	var o deployOptions
	cmd := &cobra.Command{
		Use:   "deploy CERT-ID TARGET... [--verbose] [--json]",
		Short: "Deploy a certificate to targets: install, test, reload and check (automated targets)",
		Long: "deploy starts (or continues) the deployment of the certificate (ID or SHA-256) to each\n" +
			"target (name or ID). Directory and SSH targets are installed at once: backup, write,\n" +
			"test, reload, check, and roll back when the check fails; agent targets get the job\n" +
			"queued; manual targets are prepared (then: deployment request, package create or zip).\n" +
			"Several targets are deployed " + fmt.Sprint(deployConcurrency) + " at a time. The exit status is 1 when any\n" +
			"deployment did not succeed.",
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				return a.runDeploy(ctx, c, args[0], args[1:], &o)
			})
		},
	}
	cmd.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "print what the test and reload commands printed")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the deployments as JSON")
	cmd.Flags().BoolVar(&o.progress, "progress", false, "show a progress bar even when standard error is not a terminal")
	return cmd
}

// deployResult is the end of one target's deployment.
type deployResult struct {
	target string
	dep    *client.Deployment
	err    error
}

func (a *app) runDeploy(ctx context.Context, c *client.Client, certRef string, targetRefs []string, o *deployOptions) error {
	certID, err := certificateRef(ctx, c, certRef)
	if err != nil {
		return err
	}
	targets := make([]*client.Target, len(targetRefs))
	for i, ref := range targetRefs {
		if targets[i], err = findTarget(ctx, c, ref); err != nil {
			return err
		}
	}
	results := make([]deployResult, len(targets))
	bar := a.deployBar(len(targets) > 1 && (o.progress || a.env.StderrIsTerminal) && !o.json, len(targets))
	var wg sync.WaitGroup
	sem := make(chan struct{}, deployConcurrency)
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			dep, err := deployOne(ctx, c, certID, t)
			results[i] = deployResult{target: t.Name, dep: dep, err: apiError(err)}
			bar.add()
		}()
	}
	wg.Wait()
	bar.finish()
	return a.writeDeployResults(results, o)
}

// deployOne starts the process of the certificate and t and installs it
// when t is automated.
func deployOne(ctx context.Context, c *client.Client, certID int64, t *client.Target) (*client.Deployment, error) {
	d, err := c.StartDeployment(ctx, client.DeploymentStart{CertificateID: certID, TargetID: t.ID})
	if err != nil || t.Method == "manual" {
		return d, err
	}
	return c.InstallDeployment(ctx, d.ID)
}

func (a *app) writeDeployResults(results []deployResult, o *deployOptions) error {
	failed := 0
	var deps []*client.Deployment
	for _, r := range results {
		if r.err != nil || deploymentFailed(r.dep) {
			failed++
		}
		if r.dep != nil {
			deps = append(deps, r.dep)
		}
	}
	if o.json {
		if err := writeJSON(a.env.Stdout, deps); err != nil {
			return err
		}
	} else {
		for i, r := range results {
			if i > 0 {
				fmt.Fprintln(a.env.Stdout)
			}
			if r.err != nil {
				fmt.Fprintf(a.env.Stdout, "%s: not deployed: %s\n", r.target, r.err)
				continue
			}
			a.writeDeploymentResult(r.dep, o.verbose)
		}
	}
	switch {
	case failed == 0:
		return nil
	case len(results) == 1 && results[0].err != nil:
		return results[0].err
	case len(results) == 1:
		return deploymentError(results[0].dep)
	}
	return fmt.Errorf("%d of %d deployments did not succeed", failed, len(results))
}

// deploymentFailed reports whether d ended in failure.
func deploymentFailed(d *client.Deployment) bool {
	return d != nil && (d.State == "failed" || d.State == "rolled_back")
}

// deploymentError is the one-line error of a failed deployment: the
// detail of its last failing step.
func deploymentError(d *client.Deployment) error {
	reason := ""
	for i := len(d.Steps) - 1; i >= 0 && reason == ""; i-- {
		if s := d.Steps[i]; strings.Contains(s.Action, "failed") {
			reason = s.Detail
		}
	}
	if reason == "" && d.LastCheck != nil && !d.LastCheck.Passed {
		reason = first(d.LastCheck.Error, strings.Join(d.LastCheck.Problems, "; "), "the check did not pass")
	}
	msg := fmt.Sprintf("deployment %d failed", d.ID)
	if d.State == "rolled_back" {
		msg = fmt.Sprintf("deployment %d was rolled back", d.ID)
	}
	if reason != "" {
		msg += ": " + reason
	}
	if rolledBack(d) {
		msg += " (the previous files were restored)"
	}
	return errors.New(msg)
}

// rolledBack reports whether the last attempt of d ended by restoring the
// previous files.
func rolledBack(d *client.Deployment) bool {
	steps := attemptSteps(d.Steps)
	return d.State == "rolled_back" || (len(steps) > 0 && steps[len(steps)-1].Action == "rolled_back")
}

// deployBar draws the progress of several deployments on standard error;
// the zero value draws nothing.
type deployBar struct {
	mu  sync.Mutex
	bar *progressbar.ProgressBar
}

func (a *app) deployBar(show bool, total int) *deployBar {
	if !show {
		return &deployBar{}
	}
	return &deployBar{bar: progressbar.NewOptions(total, progressbar.OptionSetWriter(a.env.Stderr),
		progressbar.OptionSetDescription("deploying"), progressbar.OptionShowCount(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.env.Stderr) }))}
}

func (b *deployBar) add() {
	if b.bar == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.bar.Add(1)
}

func (b *deployBar) finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
	}
}

// writeDeploymentResult prints where a deployment stands after an action:
// state, served certificate, problems, the backup, and with verbose the
// commands' output of the last attempt.
func (a *app) writeDeploymentResult(d *client.Deployment, verbose bool) {
	w := a.env.Stdout
	fmt.Fprintf(w, "deployment %d: certificate %s to %s: %s (attempt %d)\n", d.ID,
		certName(d), first(d.Target, fmt.Sprint(d.TargetID)), d.State, d.Attempts)
	if d.Backup != "" {
		fmt.Fprintf(w, "  backup: %s\n", d.Backup)
	}
	if d.Unchecked {
		fmt.Fprintln(w, "  continued without a passing check")
	}
	if d.LastCheck != nil {
		writeCheck(w, d.LastCheck, "  ")
	}
	steps := attemptSteps(d.Steps)
	for _, s := range steps {
		if strings.Contains(s.Action, "failed") || s.Action == "rolled_back" {
			fmt.Fprintf(w, "  %s: %s\n", s.Action, oneLineText(s.Detail))
		}
	}
	if verbose {
		for _, s := range steps {
			if s.Output != "" {
				fmt.Fprintf(w, "  output of %s:\n%s", s.Action, indent(s.Output, "    "))
			}
		}
	}
	if next := deploymentNext(d); next != "" {
		fmt.Fprintf(w, "  next: %s\n", next)
	}
}

func certName(d *client.Deployment) string {
	if d.Certificate != "" {
		return fmt.Sprintf("%d (%s)", d.CertificateID, d.Certificate)
	}
	return fmt.Sprint(d.CertificateID)
}

// attemptSteps returns the steps of the latest attempt: from the last
// install, install request or preparation on.
func attemptSteps(steps []client.DeploymentStep) []client.DeploymentStep {
	for i := len(steps) - 1; i >= 0; i-- {
		switch steps[i].Action {
		case "installed", "install_failed", "install_requested", "prepared":
			return steps[i:]
		}
	}
	return steps
}

// deploymentNext says what to do next with d, or "".
func deploymentNext(d *client.Deployment) string {
	switch {
	case d.State == "prepared" && d.Method == "manual":
		return fmt.Sprintf("certkeeper deployment request %d --password-file F (e-mail the package), "+
			"certkeeper package create %d -o FILE, or certkeeper deployment zip %d -o FILE", d.ID, d.ID, d.ID)
	case d.State == "prepared":
		return fmt.Sprintf("certkeeper deployment install %d", d.ID)
	case d.State == "install_requested" && d.Method == "agent":
		return "the agent installs it when it next asks for jobs"
	case d.State == "install_requested", d.State == "installed":
		return fmt.Sprintf("certkeeper deployment check %d, or upload-report %d FILE (a report made on site)", d.ID, d.ID)
	case d.State == "failed" || d.State == "rolled_back":
		return fmt.Sprintf("fix the cause, then certkeeper deployment install %d", d.ID)
	}
	return ""
}

// writeCheck prints a deploy check result.
func writeCheck(w io.Writer, r *client.CheckResult, pre string) {
	verdict := "passed"
	if !r.Passed {
		verdict = "failed"
	}
	where := r.Address
	if r.ServerName != "" {
		where += " (SNI " + r.ServerName + ")"
	}
	fmt.Fprintf(w, "%scheck: %s at %s, %s (%s)\n", pre, verdict, orDash(where), stamp(r.Time), r.Source)
	if r.Error != "" {
		fmt.Fprintf(w, "%s  not observed: %s\n", pre, r.Error)
		return
	}
	match := "the expected certificate"
	if !r.Match {
		match = "NOT the expected certificate " + colonHex(r.ExpectedSHA256)
	}
	fmt.Fprintf(w, "%s  served: %s, %s\n", pre, orDash(r.ServedSubject), match)
	fmt.Fprintf(w, "%s  served SHA-256 %s\n", pre, colonHex(r.ServedSHA256))
	fmt.Fprintf(w, "%s  %s, %s, %s\n", pre, orDash(r.Protocol), daysText(r.DaysLeft), verifiesText(r))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "%s  problem: %s\n", pre, p)
	}
}

func verifiesText(r *client.CheckResult) string {
	parts := []string{"chain does not verify"}
	if r.ChainVerifies {
		parts[0] = "chain verifies"
	}
	if !r.IntermediatesServed {
		parts = append(parts, "intermediates missing")
	}
	if !r.NameMatches {
		parts = append(parts, "name does not match")
	}
	return strings.Join(parts, ", ")
}

func indent(s, pre string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(pre + l + "\n")
	}
	return b.String()
}

func oneLineText(s string) string { return strings.Join(strings.Fields(s), " ") }

func (a *app) deploymentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "deployment",
		Aliases: []string{"deployments"},
		Short:   "Follow and act on deployment processes: list, show, install, check, roll back, packages",
		Long: "A deployment process puts one certificate on one target and records every step.\n" +
			"Start one with \"certkeeper deploy CERT-ID TARGET\".\n" +
			"With --server the commands work against a certkeeper server; without, on the local data directory.",
	}
	cmd.AddCommand(a.deploymentListCommand(), a.deploymentShowCommand(),
		a.deploymentActionCommand("install", "Install now (directory, ssh) or queue the job for the agent", (*client.Client).InstallDeployment),
		a.deploymentActionCommand("check", "Check what the target's server serves now", (*client.Client).CheckDeployment),
		a.deploymentActionCommand("rollback", "Restore the files the last install replaced and reload", (*client.Client).RollbackDeployment),
		a.deploymentContinueCommand(), a.deploymentZipCommand(), a.deploymentRequestCommand(), a.deploymentUploadReportCommand())
	return cmd
}

type deploymentListOptions struct {
	state, target, certificate, after string
	checkFailed, latest, json         bool
	limit                             int
}

func (a *app) deploymentListCommand() *cobra.Command {
	var o deploymentListOptions
	cmd := &cobra.Command{
		Use:   "list [--state ongoing|prepared,...] [--target T] [--certificate ID] [--check-failed] [--latest] [--json]",
		Short: "List deployment processes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				return a.runDeploymentList(ctx, c, &o)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.state, "state", "", "comma-separated states (prepared, install_requested, installed, confirmed, failed, rolled_back) or ongoing")
	f.StringVar(&o.target, "target", "", "only this target's processes (name or ID)")
	f.StringVar(&o.certificate, "certificate", "", "only this certificate's processes (ID or SHA-256)")
	f.BoolVar(&o.checkFailed, "check-failed", false, "only processes whose last check did not pass")
	f.BoolVar(&o.latest, "latest", false, "only each target's newest process (the certificate it should serve now)")
	f.IntVar(&o.limit, "limit", 100, "page size (at most 1000)")
	f.StringVar(&o.after, "after", "", "cursor printed with the previous page")
	f.BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

func (a *app) runDeploymentList(ctx context.Context, c *client.Client, o *deploymentListOptions) error {
	q := client.DeploymentQuery{State: o.state, CheckFailed: o.checkFailed, Latest: o.latest,
		Page: client.Page{Limit: o.limit, After: o.after}}
	if o.target != "" {
		t, err := findTarget(ctx, c, o.target)
		if err != nil {
			return err
		}
		q.TargetID = t.ID
	}
	if o.certificate != "" {
		id, err := certificateRef(ctx, c, o.certificate)
		if err != nil {
			return err
		}
		q.CertificateID = id
	}
	list, err := c.ListDeployments(ctx, q)
	if err != nil {
		return err
	}
	if o.json {
		return writeJSON(a.env.Stdout, list)
	}
	w := a.env.Stdout
	if len(list.Items) == 0 {
		fmt.Fprintln(w, "no deployment processes match")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCERTIFICATE\tTARGET\tSTATE\tATTEMPTS\tCHECK\tUPDATED")
	for i := range list.Items {
		d := &list.Items[i]
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, certName(d), first(d.Target, fmt.Sprint(d.TargetID)),
			d.State, d.Attempts, checkVerdict(d), stamp(d.UpdatedAt))
	}
	tw.Flush()
	if list.Next != "" {
		fmt.Fprintf(w, "more: --after %s\n", list.Next)
	}
	return nil
}

func checkVerdict(d *client.Deployment) string {
	switch {
	case d.LastCheck == nil && d.Unchecked:
		return "continued unchecked"
	case d.LastCheck == nil:
		return "-"
	case d.LastCheck.Passed:
		return "passed"
	}
	return "failed"
}

// withDeployment reads the deployment ID ref, then runs f with it
// through the API.
func (a *app) withDeployment(cmd *cobra.Command, ref string, f func(context.Context, *client.Client, int64) error) error {
	id, err := parseObjectID("deployment", ref)
	if err != nil {
		return err
	}
	return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error { return f(ctx, c, id) })
}

func (a *app) deploymentShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID [--json]",
		Short: "Show a deployment: state, last check, and every step with the commands' output",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withDeployment(cmd, args[0], func(ctx context.Context, c *client.Client, id int64) error {
				d, err := c.GetDeployment(ctx, id)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, d)
				}
				a.writeDeployment(d)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) writeDeployment(d *client.Deployment) {
	w := a.env.Stdout
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("deployment", "%d", d.ID)
	row("certificate", "%s", certName(d))
	row("target", "%s (%s)", first(d.Target, fmt.Sprint(d.TargetID)), orDash(d.Method))
	row("state", "%s (attempts %d)", d.State, d.Attempts)
	if d.Backup != "" {
		row("backup", "%s", d.Backup)
	}
	if d.Unchecked {
		row("unchecked", "continued without a passing check")
	}
	row("created", "%s by %s", stamp(d.CreatedAt), d.CreatedBy)
	row("updated", "%s (version %d)", stamp(d.UpdatedAt), d.Version)
	tw.Flush()
	if d.LastCheck != nil {
		fmt.Fprintln(w, "\nLast check:")
		writeCheck(w, d.LastCheck, "  ")
	}
	if len(d.Steps) > 0 {
		fmt.Fprintln(w, "\nSteps:")
	}
	for _, s := range d.Steps {
		fmt.Fprintf(w, "  %s  %s  %s", s.Time.UTC().Format(time.RFC3339), s.Actor, s.Action)
		if s.Detail != "" {
			fmt.Fprintf(w, ": %s", oneLineText(s.Detail))
		}
		fmt.Fprintln(w)
		if s.Output != "" {
			fmt.Fprint(w, indent(s.Output, "      | "))
		}
	}
	if next := deploymentNext(d); next != "" {
		fmt.Fprintf(w, "next: %s\n", next)
	}
}

// deploymentActionCommand is install, check or rollback: one call, then
// the result; the exit status is 1 when the deployment did not succeed.
func (a *app) deploymentActionCommand(name, short string, call func(*client.Client, context.Context, int64) (*client.Deployment, error)) *cobra.Command {
	var verbose, asJSON bool
	cmd := &cobra.Command{
		Use:   name + " ID [--verbose] [--json]",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withDeployment(cmd, args[0], func(ctx context.Context, c *client.Client, id int64) error {
				d, err := call(c, ctx, id)
				if err != nil {
					return err
				}
				if asJSON {
					if err := writeJSON(a.env.Stdout, d); err != nil {
						return err
					}
				} else {
					a.writeDeploymentResult(d, verbose)
				}
				return actionError(name, d)
			})
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print what the test and reload commands printed")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// actionError is the error of an action whose outcome is a failure: an
// install that failed, a check that did not pass.
func actionError(action string, d *client.Deployment) error {
	switch {
	case action == "rollback":
		return nil
	case action == "check" && d.LastCheck != nil && !d.LastCheck.Passed:
		return fmt.Errorf("deployment %d: the check did not pass", d.ID)
	case deploymentFailed(d):
		return deploymentError(d)
	}
	return nil
}

func (a *app) deploymentContinueCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "continue ID --reason TEXT",
		Short: "Confirm a deployment without a passing check (recorded with the reason)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withDeployment(cmd, args[0], func(ctx context.Context, c *client.Client, id int64) error {
				d, err := c.ContinueDeployment(ctx, id, client.ContinueInput{Reason: reason})
				if err != nil {
					return err
				}
				a.writeDeploymentResult(d, false)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the deployment is confirmed without a check")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func (a *app) deploymentZipCommand() *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "zip ID -o FILE.zip [--force]",
		Short: "Write the conventional package: the preset's files and a README of install steps",
		Long: "zip writes the preset's files for the deployment's target and README.txt with the\n" +
			"install steps. It holds the private key in clear: it is written with mode 0600;\n" +
			"delete it once installed.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withDeployment(cmd, args[0], func(ctx context.Context, c *client.Client, id int64) error {
				data, err := c.DeploymentZip(ctx, id)
				if err != nil {
					return err
				}
				if err := writeFileAtomic(out, data, 0o600, force); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "wrote %s (%d bytes; holds the private key in clear)\n", out, len(data))
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "zip file to write")
	cmd.Flags().BoolVar(&force, "force", false, "replace the output file if it exists")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func (a *app) deploymentRequestCommand() *cobra.Command {
	var passwordFile, to, message string
	cmd := &cobra.Command{
		Use:   "request ID --password-file F [--to ADDR] [--message TEXT]",
		Short: "E-mail the target's administrator an install request with the encrypted package",
		Long: "request seals the one-click package under the password (12 characters or more) and\n" +
			"e-mails it to the target's admin e-mail (or --to). The password is not in the e-mail:\n" +
			"give it to the administrator another way.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("deployment", args[0])
			if err != nil {
				return err
			}
			pw, err := a.readSecretFile(passwordFile, false)
			if err != nil {
				return fmt.Errorf("--password-file: %w", err)
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := c.RequestInstall(ctx, id, client.InstallRequest{Password: pw, To: to, Message: message})
				if err != nil {
					return err
				}
				a.writeDeploymentResult(d, false)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&passwordFile, "password-file", "", "read the package password from the first line of this file (- for standard input)")
	cmd.Flags().StringVar(&to, "to", "", "e-mail address (default: the target's admin e-mail)")
	cmd.Flags().StringVar(&message, "message", "", "a note added to the e-mail")
	_ = cmd.MarkFlagRequired("password-file")
	return cmd
}

func (a *app) deploymentUploadReportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "upload-report ID FILE",
		Short: "Hand in a check report made on site with \"certkeeper check --report FILE HOST:PORT\"",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseObjectID("deployment", args[0])
			if err != nil {
				return err
			}
			data, err := readReportFile(args[1])
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := c.UploadCheckReport(ctx, id, data)
				if err != nil {
					return err
				}
				a.writeDeploymentResult(d, false)
				return actionError("check", d)
			})
		},
	}
	return cmd
}
