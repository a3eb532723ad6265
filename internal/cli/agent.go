package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
	"github.com/certkeeper/certkeeper/internal/agent"
)

func (a *app) agentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a deployment agent on a host, or manage the agents of this manager",
		Long: "An agent installs certificates on the host it runs on. It enrolls once with a one-time\n" +
			"token (\"agent token create\" on the manager), checking the manager's agent endpoint against\n" +
			"the CA pin printed with the token, and from then on fetches its jobs over mutual TLS\n" +
			"(\"agent run\"), checking the manager's key pinned at enrollment and running only the test\n" +
			"and reload commands its agent.json allows. The agent's files live in --dir (env\n" +
			"CERTKEEPER_AGENT_DIR; default /var/lib/certkeeper-agent for root, else certkeeper-agent in the\n" +
			"XDG data directory).",
	}
	cmd.AddCommand(a.agentEnrollCommand(), a.agentRunCommand(), a.agentTokenCommand(), a.agentListCommand(),
		a.agentDisableCommand(true), a.agentDisableCommand(false), a.agentAcceptKeyCommand())
	return cmd
}

// agentDir is --dir, or CERTKEEPER_AGENT_DIR, or the default: for root
// /var/lib/certkeeper-agent, for anyone else certkeeper-agent in the XDG
// data directory.
func (a *app) agentDir(flag string) string {
	if d := first(flag, a.env.Getenv("CERTKEEPER_AGENT_DIR")); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/lib/certkeeper-agent"
	}
	if x := a.env.Getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "certkeeper-agent")
	}
	if h := a.env.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "certkeeper-agent")
	}
	return "certkeeper-agent"
}

func (a *app) agentEnrollCommand() *cobra.Command {
	var c agent.EnrollConfig
	var tokenFile string
	cmd := &cobra.Command{
		Use:   "enroll --server URL --token T --ca-pin sha256:HEX [--name N] [--dir D] [--allow-preset P]... [--allow-command C]... [--allow-dir D]...",
		Short: "Enroll this host's agent with a manager, using a one-time token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return fmt.Errorf("token file: %w", err)
				}
				line, _, _ := strings.Cut(string(b), "\n")
				c.Token = strings.TrimSpace(line)
			}
			if c.Token == "" {
				return errors.New("give the enrollment token with --token or --token-file")
			}
			c.Dir = a.agentDir(c.Dir)
			st, err := agent.Enroll(cmd.Context(), c)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "agent %s enrolled with %s; its key and certificate are in %s\n", st.Name, st.Server, c.Dir)
			fmt.Fprintf(a.env.Stdout, "manager key pinned: %s\n", st.ManagerKeyPin)
			writeAllowed(a.env.Stdout, st, c.Dir)
			fmt.Fprintf(a.env.Stdout, "start it with: certkeeper agent run --dir %s\n", c.Dir)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.Server, "server", "", "the manager's agent endpoint, https://HOST:PORT (required)")
	f.StringVar(&c.Token, "token", "", "the one-time enrollment token")
	f.StringVar(&tokenFile, "token-file", "", "read the enrollment token from the first line of this file")
	f.StringVar(&c.CAPin, "ca-pin", "", "sha256:HEX printed with the token: the endpoint's CA public key (required)")
	f.StringVar(&c.Name, "name", "", "the agent's name (default: the name the token was made for)")
	f.StringVar(&c.Dir, "dir", "", "directory for the agent's files (env CERTKEEPER_AGENT_DIR)")
	f.StringArrayVar(&c.AllowPresets, "allow-preset", nil, "let jobs run the test and reload commands of this built-in preset (repeatable)")
	f.StringArrayVar(&c.AllowCommands, "allow-command", nil, "let jobs run exactly this test or reload command (repeatable)")
	f.StringArrayVar(&c.AllowDirs, "allow-dir", nil, "let jobs write only into this absolute directory and below (repeatable; none: anywhere the target says)")
	cmd.MarkFlagRequired("server")
	cmd.MarkFlagRequired("ca-pin")
	return cmd
}

func (a *app) agentRunCommand() *cobra.Command {
	var c agent.RunConfig
	var logFormat string
	cmd := &cobra.Command{
		Use:   "run [--dir D] [--interval 30s] [--once]",
		Short: "Fetch and install this agent's jobs until interrupted (or once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(a.env, logFormat)
			if err != nil {
				return err
			}
			if c.Interval <= 0 {
				return fmt.Errorf("--interval %s: want a positive duration such as 30s", c.Interval)
			}
			c.Dir, c.Now = a.agentDir(c.Dir), a.env.Now
			return agent.Run(cmd.Context(), c, log)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.Dir, "dir", "", "directory of the enrolled agent's files (env CERTKEEPER_AGENT_DIR)")
	f.DurationVar(&c.Interval, "interval", agent.DefaultInterval, "time between two requests for jobs")
	f.BoolVar(&c.Once, "once", false, "fetch and run the jobs once, then exit (non-zero when a job failed)")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	return cmd
}

// writeAllowed says which commands jobs may run on this host.
func writeAllowed(w io.Writer, st *agent.State, dir string) {
	if len(st.AllowedPresets)+len(st.AllowedCommands) == 0 {
		fmt.Fprintf(w, "jobs may run no test or reload command here (allow some in %s)\n", filepath.Join(dir, agent.StateFile))
		return
	}
	if len(st.AllowedPresets) > 0 {
		fmt.Fprintf(w, "jobs may run the test and reload commands of the presets: %s\n", strings.Join(st.AllowedPresets, ", "))
	}
	for _, c := range st.AllowedCommands {
		fmt.Fprintf(w, "jobs may run the command: %s\n", c)
	}
}

func (a *app) agentAcceptKeyCommand() *cobra.Command {
	var dir, pin string
	cmd := &cobra.Command{
		Use:   "accept-manager-key --pin sha256:HEX [--dir D]",
		Short: "Trust a new key of the manager's agent endpoint (after its certificate was replaced)",
		Long: "The agent pins the public key of the manager's agent endpoint at enrollment and refuses any\n" +
			"other key. When the endpoint's certificate was replaced with a new key on purpose, compare the\n" +
			"pin the agent reports with the key_pin the manager logs (\"agent endpoint certificates in use\")\n" +
			"and accept it here.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir = a.agentDir(dir)
			old, err := agent.AcceptManagerKey(dir, pin)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "manager key pin of the agent in %s: %s (was %s)\n", dir, strings.ToLower(strings.TrimSpace(pin)), orDash(old))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&pin, "pin", "", "sha256:HEX of the endpoint's new public key (required)")
	f.StringVar(&dir, "dir", "", "directory of the enrolled agent's files (env CERTKEEPER_AGENT_DIR)")
	cmd.MarkFlagRequired("pin")
	return cmd
}

func (a *app) agentTokenCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Make agent enrollment tokens"}
	cmd.AddCommand(a.agentTokenCreateCommand())
	return cmd
}

func (a *app) agentTokenCreateCommand() *cobra.Command {
	var name, ttl, endpoint string
	cmd := &cobra.Command{
		Use:   "create --name N [--ttl 24h]",
		Short: "Make a one-time token that enrolls the agent called N; printed once with the CA pin",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := parseDays(ttl)
			if err != nil {
				return fmt.Errorf("--ttl: %w", err)
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				t, err := c.CreateAgentToken(ctx, client.AgentTokenInput{Name: name, TTLSeconds: int(d / time.Second)})
				if err != nil {
					return err
				}
				writeAgentToken(a.env.Stdout, t, endpoint)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "the agent's name (required)")
	f.StringVar(&ttl, "ttl", "24h", "how long the token works, e.g. 24h or 7d (at most 30d)")
	f.StringVar(&endpoint, "endpoint", "https://MANAGER:8444", "the agent endpoint's URL as the host reaches it, for the printed command")
	cmd.MarkFlagRequired("name")
	return cmd
}

func writeAgentToken(w io.Writer, t *client.AgentToken, endpoint string) {
	fmt.Fprintf(w, "enrollment token for agent %s (shown only now; it works once, until %s):\n", t.Name, stamp(t.ExpiresAt))
	fmt.Fprintf(w, "token:  %s\n", t.Token)
	fmt.Fprintf(w, "CA pin: %s\n", t.CAPin)
	fmt.Fprintln(w, "on the agent's host, run:")
	fmt.Fprintf(w, "  certkeeper agent enroll --server %s --token %s --ca-pin %s --name %s\n", endpoint, t.Token, t.CAPin, t.Name)
	fmt.Fprintln(w, "adding --allow-preset PRESET or --allow-command \"CMD\" for the test and reload commands its jobs may run")
}

func (a *app) agentListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the enrolled agents",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				list, err := c.ListAgents(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, list)
				}
				writeAgentList(a.env.Stdout, list.Items)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeAgentList(w io.Writer, list []client.Agent) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no agents")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tENROLLED\tLAST SEEN\tFROM")
	for _, ag := range list {
		state := "enabled"
		if ag.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", ag.ID, ag.Name, state, stamp(ag.EnrolledAt), stamp(ag.LastSeenAt),
			orDash(ag.RemoteAddr))
	}
	tw.Flush()
}

// agentDisableCommand is "agent disable" when disable is set, else
// "agent enable".
func (a *app) agentDisableCommand(disable bool) *cobra.Command {
	verb, short := "enable", "Let a disabled agent fetch jobs again"
	if disable {
		verb, short = "disable", "Refuse an agent's requests until it is enabled again"
	}
	return &cobra.Command{
		Use:   verb + " NAME-or-ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				id, err := agentID(ctx, c, args[0])
				if err != nil {
					return err
				}
				ag, err := c.SetAgentDisabled(ctx, id, disable)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "agent %s %sd\n", ag.Name, verb)
				return nil
			})
		},
	}
}

// agentID finds an agent by name, or takes a number as its ID.
func agentID(ctx context.Context, c *client.Client, s string) (int64, error) {
	if id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64); err == nil && id > 0 {
		return id, nil
	}
	ag, err := c.AgentByName(ctx, s)
	if client.IsNotFound(err) {
		return 0, fmt.Errorf("no agent called %q (see \"certkeeper agent list\")", s)
	}
	if err != nil {
		return 0, err
	}
	return ag.ID, nil
}
