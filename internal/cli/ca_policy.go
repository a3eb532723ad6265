package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

// caPolicyCommand groups "ca policy show" and "ca policy set": a CA's
// issuance policy, read and changed through the API as the local admin.
func (a *app) caPolicyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Show or set who may request what from a CA (per role), and what happens outside it",
	}
	cmd.AddCommand(a.caPolicyShowCommand(), a.caPolicySetCommand())
	return cmd
}

func (a *app) caPolicyShowCommand() *cobra.Command {
	var caName string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [--ca NAME] [--json]",
		Short: "Show a CA's issuance policy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				id, err := caIDByName(ctx, c, caName)
				if err != nil {
					return err
				}
				p, err := c.GetCAPolicy(ctx, id)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, p)
				}
				writeCAPolicy(a.env.Stdout, p)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&caName, "ca", "", "CA name (default: the default CA)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// caPolicySetOptions are the flags of "ca policy set".
type caPolicySetOptions struct {
	caName, role, file, onViolation  string
	domains, ips, profiles           []string
	subdomains, wildcard, unrestrict bool
	maxNames, maxDays                int
}

func (a *app) caPolicySetCommand() *cobra.Command {
	var o caPolicySetOptions
	cmd := &cobra.Command{
		Use: "set [--ca NAME] (--role admin|user [--unrestricted] [--domain D...] [--subdomains] [--wildcard] " +
			"[--ip CIDR...] [--max-names N] [--profile P...] [--max-days N] | --file POLICY.json) [--on-violation refuse|approval]",
		Short: "Set a CA's issuance policy: one role's rules from flags, or the whole policy from a JSON file",
		Long: "With --role, the role's rules are replaced by those the flags give (no --domain and no --ip: the role may\n" +
			"request nothing); the other role's are kept. --subdomains and --wildcard apply to every --domain given.\n" +
			"--file replaces the whole policy with a JSON document as \"ca policy show --json\" prints under \"policy\".\n" +
			"--on-violation approval holds acquisitions outside the policy for an admin's approval; refuse (the default)\n" +
			"refuses them. Direct issuance (\"ca issue\", the API's POST /cas/{id}/issue) outside the policy is always refused.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error { return a.runCAPolicySet(ctx, cmd, c, &o) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.caName, "ca", "", "CA name (default: the default CA)")
	f.StringVar(&o.role, "role", "", "the role whose rules the flags set: admin or user")
	f.StringVar(&o.file, "file", "", "JSON file with the whole policy (- for standard input)")
	f.BoolVar(&o.unrestrict, "unrestricted", false, "the role may request anything the CA may sign")
	f.StringSliceVar(&o.domains, "domain", nil, "DNS domain the role may request (repeatable)")
	f.BoolVar(&o.subdomains, "subdomains", false, "the domains' subdomains too")
	f.BoolVar(&o.wildcard, "wildcard", false, "wildcard names (*.domain) too")
	f.StringSliceVar(&o.ips, "ip", nil, "IP range in CIDR form the role may request (repeatable)")
	f.IntVar(&o.maxNames, "max-names", 0, "most names in one certificate (default 100)")
	f.StringSliceVar(&o.profiles, "profile", nil, "profile the role may request (repeatable; default tls-server, tls-client, tls-server-client)")
	f.IntVar(&o.maxDays, "max-days", 0, "longest validity in days (default the profile's maximum)")
	f.StringVar(&o.onViolation, "on-violation", "", "refuse or approval (default: keep the current setting)")
	return cmd
}

func (a *app) runCAPolicySet(ctx context.Context, cmd *cobra.Command, c *client.Client, o *caPolicySetOptions) error {
	if (o.role == "") == (o.file == "") {
		return fmt.Errorf("give either --role admin|user with its rules, or --file POLICY.json")
	}
	id, err := caIDByName(ctx, c, o.caName)
	if err != nil {
		return err
	}
	cur, err := c.GetCAPolicy(ctx, id)
	if err != nil {
		return err
	}
	p, err := o.policy(cur.Policy, a.env.Stdin)
	if err != nil {
		return err
	}
	if cmd.Flags().Changed("on-violation") {
		p.OnViolation = o.onViolation
	}
	set, err := c.SetCAPolicy(ctx, id, p)
	if err != nil {
		return err
	}
	writeCAPolicy(a.env.Stdout, set)
	return nil
}

// policy is the policy the options ask for: cur with one role replaced,
// or the file's.
func (o *caPolicySetOptions) policy(cur client.IssuancePolicy, stdin io.Reader) (client.IssuancePolicy, error) {
	if o.file != "" {
		return readPolicyFile(o.file, stdin)
	}
	rp := client.RolePolicy{Unrestricted: o.unrestrict, IPRanges: o.ips, MaxNames: o.maxNames, Profiles: o.profiles, MaxDays: o.maxDays}
	for _, d := range o.domains {
		rp.Domains = append(rp.Domains, client.DomainRule{Domain: d, Subdomains: o.subdomains, Wildcard: o.wildcard})
	}
	switch o.role {
	case "admin":
		cur.Admin = rp
	case "user":
		cur.User = rp
	default:
		return cur, fmt.Errorf("--role %q: want admin or user", o.role)
	}
	return cur, nil
}

// readPolicyFile reads a policy document; unknown fields are refused so
// that a misspelt rule does not silently allow more.
func readPolicyFile(name string, stdin io.Reader) (client.IssuancePolicy, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, 1<<20))
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return client.IssuancePolicy{}, err
	}
	var p client.IssuancePolicy
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

// caIDByName finds a CA's ID by name; "" is the default CA.
func caIDByName(ctx context.Context, c *client.Client, name string) (int64, error) {
	if name == "" {
		ca, err := c.DefaultCA(ctx)
		if client.IsNotFound(err) {
			return 0, fmt.Errorf("no default CA: run \"certkeeper ca init\" or name one with --ca")
		}
		return caID(ca, err)
	}
	ca, err := c.CAByName(ctx, name)
	if client.IsNotFound(err) {
		return 0, fmt.Errorf("no CA named %q", name)
	}
	return caID(ca, err)
}

// caID is ca's ID, or err.
func caID(ca *client.CA, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return ca.ID, nil
}

func writeCAPolicy(w io.Writer, p *client.CAPolicy) {
	state := ""
	if p.Default {
		state = " (the default: none set yet)"
	}
	fmt.Fprintf(w, "issuance policy of CA %s%s\n", p.CA, state)
	writeRolePolicy(w, "admin", p.Policy.Admin)
	writeRolePolicy(w, "user", p.Policy.User)
	fmt.Fprintf(w, "  outside the policy: %s\n", first(p.Policy.OnViolation, "refuse"))
}

func writeRolePolicy(w io.Writer, role string, rp client.RolePolicy) {
	switch {
	case rp.Unrestricted:
		fmt.Fprintf(w, "  %s: anything the CA may sign\n", role)
		return
	case len(rp.Domains) == 0 && len(rp.IPRanges) == 0:
		fmt.Fprintf(w, "  %s: nothing\n", role)
		return
	}
	fmt.Fprintf(w, "  %s:\n", role)
	for _, d := range rp.Domains {
		var extra []string
		if d.Subdomains {
			extra = append(extra, "subdomains")
		}
		if d.Wildcard {
			extra = append(extra, "wildcards")
		}
		fmt.Fprintf(w, "    domain %s %s\n", d.Domain, strings.Join(extra, ", "))
	}
	for _, r := range rp.IPRanges {
		fmt.Fprintf(w, "    IP range %s\n", r)
	}
	names, days := "100", "profile maximum"
	if rp.MaxNames > 0 {
		names = fmt.Sprint(rp.MaxNames)
	}
	if rp.MaxDays > 0 {
		days = fmt.Sprint(rp.MaxDays)
	}
	profiles := first(strings.Join(rp.Profiles, ", "), "tls-server, tls-client, tls-server-client")
	fmt.Fprintf(w, "    at most %s names, %s days; profiles %s\n", names, days, profiles)
}
