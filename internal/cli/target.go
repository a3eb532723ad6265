package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/deploy/check"
	"github.com/certkeeper/certkeeper/internal/deploy/sshhost"
	"github.com/certkeeper/certkeeper/internal/inventory"
	"github.com/certkeeper/certkeeper/internal/kit"
)

func (a *app) targetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "target",
		Short: "Manage deploy targets: the servers certificates are installed on",
		Long: "A target is one server: its preset (which files, in which formats), the method\n" +
			"(directory, ssh, agent or manual), the directory, the test and reload commands, and\n" +
			"where the deploy check connects. Secrets (SSH password or key, key-store password)\n" +
			"are read from files (- for standard input), never from the command line.\n" +
			"With --server the commands work against a certkeeper server; without, on the local data directory.",
	}
	cmd.AddCommand(a.targetAddCommand(), a.targetListCommand(), a.targetShowCommand(),
		a.targetEditCommand(), a.targetDeleteCommand())
	return cmd
}

// The target commands have no target struct of their own: a flag that
// sets a client.TargetInput field as given is a row of targetTextFlags,
// read straight onto the input; targetFlags holds only the flags that
// need more than a copy (a number, a duration, a lookup, a file, the
// inverted roll back). Which flag stands for which field is checked
// against mirror.Target by TestTargetFlagMirrors.

// targetTextFlag is a string flag that sets one field of the input.
type targetTextFlag struct {
	name, usage string
	set         func(in *client.TargetInput, v string)
}

// targetTextFlags are the flags copied onto the input as given.
func targetTextFlags() []targetTextFlag {
	return []targetTextFlag{
		{"name", "target name (unique)", func(in *client.TargetInput, v string) { in.Name = v }},
		{"preset", "preset or user layout: nginx, apache, haproxy, tomcat-pkcs12, tomcat-jks, license-server, license-client, certkeeper, generic (see \"certkeeper preset list\")",
			func(in *client.TargetInput, v string) { in.Preset = v }},
		{"method", "how files reach the target: directory, ssh, agent or manual",
			func(in *client.TargetInput, v string) { in.Method = v }},
		{"dir", "absolute directory the preset's files are written to on the target",
			func(in *client.TargetInput, v string) { in.Directory = v }},
		{"owner", "owner of the written files: user or user:group (default: the writer's)",
			func(in *client.TargetInput, v string) { in.Owner = v }},
		{"test-command", "command that checks the server's configuration before a reload (default: the preset's; \"\" for none)",
			func(in *client.TargetInput, v string) { in.TestCommand = &v }},
		{"reload-command", "command that makes the server use the new files (default: the preset's; \"\" for none)",
			func(in *client.TargetInput, v string) { in.ReloadCommand = &v }},
		{"sni", "server name the check sends (default: the check host)",
			func(in *client.TargetInput, v string) { in.Check.SNI = v }},
		{"check-starttls", "protocol the check upgrades to TLS first: smtp, imap, pop3, ftp, ldap, xmpp, postgres, mysql, auto (by port) or none",
			func(in *client.TargetInput, v string) { in.Check.StartTLS = v }},
		{"admin-email", "e-mail address that receives install requests",
			func(in *client.TargetInput, v string) { in.AdminEmail = v }},
		{"notes", "free-text notes", func(in *client.TargetInput, v string) { in.Notes = v }},
	}
}

// targetFlags are the target flags that need more than a copy.
type targetFlags struct {
	timeout                      time.Duration
	sshHost, sshUser, sshHostKey string
	sshPort                      int
	sshKeyFile, sshPasswordFile  string
	keystorePasswordFile         string
	agent, check, clientCert     string
	noRollback, yes              bool
	clear                        []string
}

func (f *targetFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	for _, t := range targetTextFlags() {
		fl.String(t.name, "", t.usage)
	}
	fl.DurationVar(&f.timeout, "timeout", 0, "time limit of each command, e.g. 90s (default 60s)")
	fl.StringVar(&f.sshHost, "ssh-host", "", "ssh: host name or IP of the server")
	fl.IntVar(&f.sshPort, "ssh-port", 0, "ssh: port (default 22)")
	fl.StringVar(&f.sshUser, "ssh-user", "", "ssh: user to log in as")
	fl.StringVar(&f.sshHostKey, "ssh-host-key", "", "ssh: the server's host key as an authorized_keys line, @FILE (a .pub or authorized_keys file), or scan (fetch it now; needs --yes)")
	fl.StringVar(&f.sshKeyFile, "ssh-key-file", "", "ssh: unencrypted private key file (OpenSSH or PEM; - for standard input)")
	fl.StringVar(&f.sshPasswordFile, "ssh-password-file", "", "ssh: read the password from the first line of this file (- for standard input)")
	fl.StringVar(&f.keystorePasswordFile, "keystore-password-file", "", "key-store password of PKCS#12 and JKS presets, from the first line of this file (- for standard input)")
	fl.StringVar(&f.agent, "agent", "", "agent: name or ID of the enrolled agent serving the target")
	fl.StringVar(&f.check, "check", "", "where the deploy check connects: HOST[:PORT] (port 443 by default)")
	fl.StringVar(&f.clientCert, "client-cert", "", "certificate ID (or SHA-256) presented by the check to servers that demand mutual TLS")
	fl.BoolVar(&f.noRollback, "no-rollback", false, "keep the new files when the check after an install fails (default: restore the old ones)")
	fl.BoolVar(&f.yes, "yes", false, "trust the host key found by --ssh-host-key scan")
}

func (a *app) targetAddCommand() *cobra.Command {
	var f targetFlags
	cmd := &cobra.Command{
		Use:   "add --name NAME --preset P --method directory|ssh|agent|manual [--dir DIR] [flags]",
		Short: "Add a target; commands not given come from the preset",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				var in client.TargetInput
				if err := a.applyTargetFlags(ctx, cmd, c, &f, &in); err != nil {
					return err
				}
				t, err := c.CreateTarget(ctx, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "added target %s (%d): %s, %s\n", t.Name, t.ID, t.Preset, targetWhere(t))
				return nil
			})
		},
	}
	f.bind(cmd)
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("preset")
	_ = cmd.MarkFlagRequired("method")
	return cmd
}

func (a *app) targetEditCommand() *cobra.Command {
	var f targetFlags
	cmd := &cobra.Command{
		Use:   "edit TARGET [flags]",
		Short: "Change a target (name or ID); only the flags given change",
		Long: "edit changes only what its flags give. --test-command \"\" removes the test command;\n" +
			"--no-rollback=false turns rolling back on again; --clear ssh-password|ssh-key|keystore-password\n" +
			"removes a stored secret.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				t, err := findTarget(ctx, c, args[0])
				if err != nil {
					return err
				}
				in := t.Input()
				if err := a.applyTargetFlags(ctx, cmd, c, &f, &in); err != nil {
					return err
				}
				if err := applyClear(f.clear, &in); err != nil {
					return err
				}
				if t, err = c.UpdateTarget(ctx, t.ID, t.Version, in); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "updated target %s (version %d)\n", t.Name, t.Version)
				return nil
			})
		},
	}
	f.bind(cmd)
	cmd.Flags().StringSliceVar(&f.clear, "clear", nil, "remove a stored secret: ssh-password, ssh-key or keystore-password (repeatable)")
	return cmd
}

func applyClear(names []string, in *client.TargetInput) error {
	empty := ""
	for _, n := range names {
		switch n {
		case "ssh-password":
			in.SSHPassword = &empty
		case "ssh-key":
			in.SSHPrivateKey = &empty
		case "keystore-password":
			in.KeystorePassword = &empty
		default:
			return fmt.Errorf("--clear %q: use ssh-password, ssh-key or keystore-password", n)
		}
	}
	return nil
}

// applyTargetFlags sets on in what the flags given say: the text flags
// as given, then timeout, SSH, agent, check, rollback and secrets.
func (a *app) applyTargetFlags(ctx context.Context, cmd *cobra.Command, c *client.Client, f *targetFlags, in *client.TargetInput) error {
	set := cmd.Flags().Changed
	for _, t := range targetTextFlags() {
		if set(t.name) {
			v, err := cmd.Flags().GetString(t.name)
			if err != nil {
				return err
			}
			t.set(in, v)
		}
	}
	if set("no-rollback") {
		on := !f.noRollback
		in.RollbackOnFailure = &on
	}
	if set("timeout") {
		if f.timeout < time.Second {
			return fmt.Errorf("--timeout %s: give at least 1s", f.timeout)
		}
		in.ReloadTimeoutSeconds = int((f.timeout + time.Second - 1) / time.Second)
	}
	if err := a.applyCheckFlags(ctx, cmd, c, f, in); err != nil {
		return err
	}
	if set("agent") {
		id, err := findAgent(ctx, c, f.agent)
		if err != nil {
			return err
		}
		in.AgentID = id
	}
	if err := a.applySSHFlags(ctx, cmd, f, in); err != nil {
		return err
	}
	return a.applySecrets(f, in)
}

func (a *app) applyCheckFlags(ctx context.Context, cmd *cobra.Command, c *client.Client, f *targetFlags, in *client.TargetInput) error {
	set := cmd.Flags().Changed
	if set("check") {
		host, port, err := parseCheckAddress(f.check)
		if err != nil {
			return err
		}
		in.Check.Host, in.Check.Port = host, port
	}
	if set("client-cert") {
		in.Check.ClientCertificateID = 0
		if f.clientCert != "" {
			id, err := certificateRef(ctx, c, f.clientCert)
			if err != nil {
				return fmt.Errorf("--client-cert: %w", err)
			}
			in.Check.ClientCertificateID = id
		}
	}
	return nil
}

// parseCheckAddress reads HOST[:PORT] ("[v6]:PORT" for IPv6 with a
// port); "" means no check from the manager.
func parseCheckAddress(s string) (string, int, error) {
	if s == "" {
		return "", 0, nil
	}
	host, portText, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Count(s, ":") == 1 {
			return "", 0, fmt.Errorf("--check %q: write HOST or HOST:PORT", s)
		}
		return strings.Trim(s, "[]"), 0, nil
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 || host == "" {
		return "", 0, fmt.Errorf("--check %q: write HOST or HOST:PORT with a port from 1 to 65535", s)
	}
	return host, port, nil
}

func (a *app) applySSHFlags(ctx context.Context, cmd *cobra.Command, f *targetFlags, in *client.TargetInput) error {
	set := cmd.Flags().Changed
	if !set("ssh-host") && !set("ssh-port") && !set("ssh-user") && !set("ssh-host-key") {
		return nil
	}
	if in.SSH == nil {
		in.SSH = &client.SSHAccess{}
	}
	if set("ssh-host") {
		in.SSH.Host = f.sshHost
	}
	if set("ssh-port") {
		in.SSH.Port = f.sshPort
	}
	if set("ssh-user") {
		in.SSH.User = f.sshUser
	}
	if set("ssh-host-key") {
		key, err := a.hostKey(ctx, f, in.SSH)
		if err != nil {
			return err
		}
		in.SSH.HostKey = key
	}
	return nil
}

func (a *app) applySecrets(f *targetFlags, in *client.TargetInput) error {
	stdinUsed := false
	read := func(file string, whole bool) (*string, error) {
		if file == "" {
			return nil, nil
		}
		if file == "-" {
			if stdinUsed {
				return nil, fmt.Errorf("only one secret can come from standard input")
			}
			stdinUsed = true
		}
		s, err := a.readSecretFile(file, whole)
		return &s, err
	}
	var err error
	if in.SSHPrivateKey, err = read(f.sshKeyFile, true); err != nil {
		return fmt.Errorf("--ssh-key-file: %w", err)
	}
	if in.SSHPassword, err = read(f.sshPasswordFile, false); err != nil {
		return fmt.Errorf("--ssh-password-file: %w", err)
	}
	if in.KeystorePassword, err = read(f.keystorePasswordFile, false); err != nil {
		return fmt.Errorf("--keystore-password-file: %w", err)
	}
	return nil
}

// viewCommand gives cmd its --json flag and a run that fetches a value
// through the API and prints it: as JSON with --json, else with write.
func viewCommand[T any](a *app, cmd *cobra.Command, fetch func(context.Context, *client.Client, []string) (T, error),
	write func(io.Writer, T)) *cobra.Command {
	var asJSON bool
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
			v, err := fetch(ctx, c, args)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.env.Stdout, v)
			}
			write(a.env.Stdout, v)
			return nil
		})
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) targetListCommand() *cobra.Command {
	var p client.Page
	cmd := viewCommand(a, &cobra.Command{
		Use:   "list [--json]",
		Short: "List targets by name",
		Args:  cobra.NoArgs,
	}, func(ctx context.Context, c *client.Client, _ []string) (*client.TargetList, error) {
		return c.ListTargets(ctx, p)
	}, writeTargetList)
	cmd.Flags().IntVar(&p.Limit, "limit", 100, "page size (at most 1000)")
	cmd.Flags().StringVar(&p.After, "after", "", "cursor printed with the previous page")
	return cmd
}

func writeTargetList(w io.Writer, list *client.TargetList) {
	if len(list.Items) == 0 {
		fmt.Fprintln(w, "no targets; add one with \"certkeeper target add\"")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPRESET\tMETHOD\tWHERE\tCHECK")
	for i := range list.Items {
		t := &list.Items[i]
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Preset, t.Method, targetWhere(t), checkText(t.Check))
	}
	tw.Flush()
	if list.Next != "" {
		fmt.Fprintf(w, "more: --after %s\n", list.Next)
	}
}

// targetWhere says where a target's files go.
func targetWhere(t *client.Target) string {
	switch {
	case t.Method == "ssh" && t.SSH != nil:
		port := t.SSH.Port
		if port == 0 {
			port = 22
		}
		return fmt.Sprintf("%s@%s:%s", t.SSH.User, net.JoinHostPort(t.SSH.Host, strconv.Itoa(port)), t.Directory)
	case t.Method == "agent":
		return fmt.Sprintf("agent %s: %s", first(t.Agent, strconv.FormatInt(t.AgentID, 10)), t.Directory)
	}
	return orDash(t.Directory)
}

// checkText is the check address, with the SNI when it differs and the
// STARTTLS protocol when there is one.
func checkText(s client.CheckSpec) string {
	if s.Host == "" {
		return "-"
	}
	addr := check.Address(inventory.CheckSpec(s))
	if s.SNI != "" && s.SNI != s.Host {
		addr += " (SNI " + s.SNI + ")"
	}
	if s.StartTLS != "" {
		addr += " STARTTLS " + s.StartTLS
	}
	return addr
}

func (a *app) targetShowCommand() *cobra.Command {
	return viewCommand(a, &cobra.Command{
		Use:   "show TARGET [--json]",
		Short: "Show a target (name or ID)",
		Args:  cobra.ExactArgs(1),
	}, func(ctx context.Context, c *client.Client, args []string) (*client.Target, error) {
		return findTarget(ctx, c, args[0])
	}, writeTarget)
}

func writeTarget(w io.Writer, t *client.Target) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, args...)...) }
	row("target", "%s (%d)", t.Name, t.ID)
	row("preset", "%s", t.Preset)
	row("method", "%s", t.Method)
	row("directory", "%s", orDash(t.Directory))
	row("owner", "%s", orDash(t.Owner))
	row("test command", "%s", orDash(t.TestCommand))
	row("reload command", "%s", orDash(t.ReloadCommand))
	if t.ReloadTimeoutSeconds > 0 {
		row("timeout", "%ds", t.ReloadTimeoutSeconds)
	}
	if s := t.SSH; s != nil {
		row("ssh", "%s", targetWhere(t))
		row("host key", "%s", hostKeyText(s.HostKey))
		row("ssh secret", "%s", secretText(t.HasSSHKey, "private key", t.HasSSHPassword, "password"))
	}
	if t.Method == "agent" {
		row("agent", "%s (%d)", orDash(t.Agent), t.AgentID)
	}
	row("check", "%s", checkText(t.Check))
	if t.Check.ClientCertificateID != 0 {
		row("client cert", "%d", t.Check.ClientCertificateID)
	}
	row("roll back", "%s", yesNo(t.RollbackOnFailure))
	if t.HasKeystorePassword {
		row("key store", "password set")
	}
	row("admin e-mail", "%s", orDash(t.AdminEmail))
	if t.Notes != "" {
		row("notes", "%s", strings.Join(strings.Fields(t.Notes), " "))
	}
	row("updated", "%s (version %d)", stamp(t.UpdatedAt), t.Version)
	tw.Flush()
}

func secretText(a bool, aName string, b bool, bName string) string {
	switch {
	case a && b:
		return aName + " and " + bName + " set"
	case a:
		return aName + " set"
	case b:
		return bName + " set"
	}
	return "none"
}

func (a *app) targetDeleteCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete TARGET [--yes]",
		Short: "Delete a target (name or ID) and its deployment history",
		Long: "delete says how many deployment processes go with the target and asks before it\n" +
			"deletes them all; --yes answers for you (needed when standard input is not a person).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				t, err := findTarget(ctx, c, args[0])
				if err != nil {
					return err
				}
				n, err := c.CountDeployments(ctx, client.DeploymentQuery{TargetID: t.ID})
				if err != nil {
					return err
				}
				if !yes {
					if err := a.confirm(fmt.Sprintf("delete target %s (%d) and its %d deployment processes?", t.Name, t.ID, n)); err != nil {
						return err
					}
				}
				if err := c.DeleteTarget(ctx, t.ID); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "deleted target %s (%d) and %d deployment processes\n", t.Name, t.ID, n)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask: delete the target and its deployment history")
	return cmd
}

// confirm asks question on standard output (standard error keeps its one
// error line) and reads the answer from standard input: anything but y or
// yes, or no answer at all, refuses.
func (a *app) confirm(question string) error {
	fmt.Fprintf(a.env.Stdout, "%s [y/N] ", question)
	line := ""
	if a.env.Stdin != nil {
		line, _ = bufio.NewReader(a.env.Stdin).ReadString('\n')
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	fmt.Fprintln(a.env.Stdout)
	return errors.New("not confirmed, nothing deleted (give --yes to delete without the question)")
}

// findTarget returns the target called ref, or whose ID ref is.
func findTarget(ctx context.Context, c *client.Client, ref string) (*client.Target, error) {
	if id, err := strconv.ParseInt(strings.TrimPrefix(ref, "#"), 10, 64); err == nil && id > 0 {
		return c.GetTarget(ctx, id)
	}
	t, err := c.TargetByName(ctx, ref)
	if client.IsNotFound(err) {
		return nil, fmt.Errorf("no target is called %q (see \"certkeeper target list\")", ref)
	}
	return t, err
}

// findAgent returns the ID of the agent called ref, or whose ID ref is;
// "" gives 0 (none).
func findAgent(ctx context.Context, c *client.Client, ref string) (int64, error) {
	if ref == "" {
		return 0, nil
	}
	list, err := c.ListAgents(ctx)
	if err != nil {
		return 0, err
	}
	id, idErr := strconv.ParseInt(strings.TrimPrefix(ref, "#"), 10, 64)
	for _, ag := range list.Items {
		if ag.Name == ref || (idErr == nil && ag.ID == id) {
			return ag.ID, nil
		}
	}
	return 0, fmt.Errorf("--agent: no enrolled agent is called %q", ref)
}

// maxSecretFile bounds a secret read from a file or standard input.
const maxSecretFile = 1 << 20

// readSecretFile reads a secret from file ("-" for standard input): the
// whole content when whole (a private key), else the first line.
func (a *app) readSecretFile(file string, whole bool) (string, error) {
	var r io.Reader
	if file == "-" {
		r = a.env.Stdin
	} else {
		f, err := os.Open(file)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxSecretFile+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxSecretFile {
		return "", fmt.Errorf("%s is larger than %d bytes", file, maxSecretFile)
	}
	if whole {
		return string(data), nil
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return string(bytes.TrimSuffix(line, []byte("\r"))), nil
}

// scanTimeout bounds --ssh-host-key scan.
const scanTimeout = 15 * time.Second

// hostKey resolves --ssh-host-key to an authorized_keys line: given as
// one, read from @FILE, or fetched from the server (scan), which is
// trusted only with --yes after its fingerprint is shown. The scan runs
// from this machine, also with --server.
func (a *app) hostKey(ctx context.Context, f *targetFlags, s *client.SSHAccess) (string, error) {
	v := strings.TrimSpace(f.sshHostKey)
	switch {
	case v == "":
		return "", nil
	case v == "scan":
		return a.scanHostKey(ctx, f, s)
	case strings.HasPrefix(v, "@"):
		data, err := os.ReadFile(v[1:])
		if err != nil {
			return "", fmt.Errorf("--ssh-host-key: %w", err)
		}
		v = firstKeyLine(data)
	}
	line, err := normalHostKey(v)
	if err != nil {
		return "", fmt.Errorf("--ssh-host-key: %w", err)
	}
	return line, nil
}

func (a *app) scanHostKey(ctx context.Context, f *targetFlags, s *client.SSHAccess) (string, error) {
	if s.Host == "" {
		return "", errors.New("--ssh-host-key scan needs --ssh-host")
	}
	port := s.Port
	if port == 0 {
		port = 22
	}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(port))
	line, err := sshhost.ScanHostKey(ctx, addr, scanTimeout)
	if err != nil {
		return "", err
	}
	if line, err = normalHostKey(line); err != nil {
		return "", fmt.Errorf("%s: %w", addr, err)
	}
	fmt.Fprintf(a.env.Stdout, "%s presents the host key %s\n", addr, hostKeyText(line))
	if !f.yes {
		return "", fmt.Errorf("the host key of %s is not trusted yet: compare its fingerprint with the server's own "+
			"(ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the server), then run again with --yes", addr)
	}
	return line, nil
}

// firstKeyLine returns the first line of data that is neither empty nor
// a comment.
func firstKeyLine(data []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			return l
		}
	}
	return ""
}

// normalHostKey checks an authorized_keys line and returns it as "TYPE
// BASE64", without options or comment.
func normalHostKey(line string) (string, error) {
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return "", errors.New("not an SSH public key in authorized_keys form (ssh-ed25519 AAAA...)")
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))), nil
}

// hostKeyText shows a host key as its type and SHA-256 fingerprint.
func hostKeyText(line string) string {
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return orDash(line)
	}
	return pub.Type() + " " + ssh.FingerprintSHA256(pub)
}

func (a *app) presetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "preset",
		Short: "List the software presets and manage user layouts (which files a target gets)",
		Long: "A preset names the files a target is given (paths, contents, formats, modes), the\n" +
			"command that tests the server's configuration and the one that reloads it. The\n" +
			"built-in ones cover nginx, apache, haproxy, tomcat, the license server and its\n" +
			"clients, certkeeper itself and a generic set; user layouts add your own.",
	}
	cmd.AddCommand(a.presetListCommand(), a.presetShowCommand(), a.presetAddCommand(), a.presetDeleteCommand())
	return cmd
}

const presetFileHelp = `add stores the user layouts of a layout file, the same JSON file
kit create --layout-file reads (docs/kit.md): one layout object, or {"layouts": [...]}:

  {
    "name": "myapp",
    "files": [
      {"path": "tls/fullchain.pem", "content": "fullchain"},
      {"path": "tls/private/key.pem", "content": "key", "mode": "0600"},
      {"path": "trust/root.cer", "content": "ca-cert-der"}
    ],
    "test_command": "myapp --check-config",
    "reload_command": "systemctl reload myapp",
    "instructions": "1. Copy the files into /etc/myapp.\n2. systemctl reload myapp"
  }

name: no spaces or slashes, not a built-in preset's. files: path relative to the
target's directory; content one of ca-cert, ca-cert-der, cert, chain, fullchain, key,
combined, pkcs12, jks; encoding pem or der (default: DER for ca-cert-der, PEM
otherwise); mode an octal string (default 0600 for key and combined, 0644 otherwise).
test_command, reload_command: defaults copied onto targets created with the layout
("" for none). instructions: install steps for the conventional package's README.
kit commands ignore these three. A layout of the same name is replaced.`

func (a *app) presetAddCommand() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "add --file LAYOUT.json",
		Short: "Add or replace user layouts from a layout file (JSON)",
		Long:  presetFileHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := readPresetFile(file)
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				for _, in := range list {
					p, err := c.PutPreset(ctx, in)
					if err != nil {
						return err
					}
					fmt.Fprintf(a.env.Stdout, "saved user layout %s: %s\n", p.Name, presetPaths(p.Files))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "layout file (JSON)")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// readPresetFile reads and checks a layout file; each layout is validated
// as a kit layout so mistakes are named with the file.
func readPresetFile(file string) ([]client.Preset, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("preset: %w", err)
	}
	defs, err := kit.ParseLayoutFile(data)
	if err != nil {
		return nil, fmt.Errorf("preset: %s: %w", file, err)
	}
	out := make([]client.Preset, len(defs))
	for i, d := range defs {
		var files []client.PresetFile
		if err := json.Unmarshal(d.Files, &files); err != nil {
			return nil, fmt.Errorf("preset: %s: layout %s: %w", file, d.Name, err)
		}
		out[i] = client.Preset{Name: d.Name, Files: files, TestCommand: d.TestCommand,
			ReloadCommand: d.ReloadCommand, Instructions: d.Instructions}
	}
	return out, nil
}

func presetPaths(files []client.PresetFile) string {
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	return strings.Join(paths, ", ")
}

func (a *app) presetListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the built-in presets and the user layouts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				list, err := c.ListPresets(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, list)
				}
				tw := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tKIND\tFILES\tTEST\tRELOAD")
				for _, p := range list.Items {
					kind := "user"
					if p.Builtin {
						kind = "built-in"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, kind, presetPaths(p.Files), orDash(p.TestCommand), orDash(p.ReloadCommand))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) presetShowCommand() *cobra.Command {
	return viewCommand(a, &cobra.Command{
		Use:   "show NAME [--json]",
		Short: "Show a preset: its files, commands and install steps",
		Args:  cobra.ExactArgs(1),
	}, func(ctx context.Context, c *client.Client, args []string) (*client.Preset, error) {
		return findPreset(ctx, c, args[0])
	}, writePreset)
}

func findPreset(ctx context.Context, c *client.Client, name string) (*client.Preset, error) {
	list, err := c.ListPresets(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(list.Items))
	for i := range list.Items {
		if list.Items[i].Name == name {
			return &list.Items[i], nil
		}
		names[i] = list.Items[i].Name
	}
	return nil, fmt.Errorf("no preset is called %q (known: %s)", name, strings.Join(names, ", "))
}

func writePreset(w io.Writer, p *client.Preset) {
	kind := "user layout"
	if p.Builtin {
		kind = "built-in preset"
	}
	fmt.Fprintf(w, "%s (%s)\n", p.Name, kind)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  FILE\tCONTENT\tENCODING\tMODE")
	for _, f := range p.Files {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Path, f.Content, orDash(f.Encoding), orDash(f.Mode))
	}
	tw.Flush()
	fmt.Fprintf(w, "test command:   %s\nreload command: %s\n", orDash(p.TestCommand), orDash(p.ReloadCommand))
	if p.NeedsPassword {
		fmt.Fprintln(w, "needs a key-store password on the target (--keystore-password-file)")
	}
	if p.Instructions != "" {
		fmt.Fprintf(w, "\nInstall steps:\n%s\n", p.Instructions)
	}
}

func (a *app) presetDeleteCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a user layout that no target uses",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.DeletePreset(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "deleted user layout %s\n", args[0])
				return nil
			})
		},
	}
}
