package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/certkeeper/certkeeper/client"
)

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage API tokens",
	}
	cmd.AddCommand(a.tokenCreateCommand(), a.tokenListCommand(), a.tokenRevokeCommand(), a.tokenMaxLifetimeCommand())
	return cmd
}

func (a *app) tokenCreateCommand() *cobra.Command {
	var user, name, expires string
	cmd := &cobra.Command{
		Use:   "create --user NAME --name LABEL [--expires 90d]",
		Short: "Make an API token for a user; the secret is printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ttl, err := parseExpires(expires)
			if err != nil {
				return err
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				o, err := tokensOf(ctx, c, user)
				if err != nil {
					return err
				}
				in := client.NewToken{Name: name}
				if ttl > 0 {
					in.TTL = ttl.String()
				}
				tok, err := o.create(ctx, in)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "created token %d %q for %s, expires %s\n", tok.Token.ID, name, user,
					optionalTime(tok.Token.ExpiresAt, "never"))
				fmt.Fprintf(a.env.Stdout, "secret (shown only now; store it safely): %s\n", tok.Secret)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&user, "user", "", "owner of the token (required)")
	f.StringVar(&name, "name", "", "label for the token (required)")
	f.StringVar(&expires, "expires", "90d", "lifetime, e.g. 90d or 12h; 0 for a token that does not expire")
	cmd.MarkFlagRequired("user")
	cmd.MarkFlagRequired("name")
	return cmd
}

// tokenOwner is the user whose tokens a token command manages, with the
// API calls that reach them.
type tokenOwner struct {
	create func(context.Context, client.NewToken) (*client.CreatedToken, error)
	list   func(context.Context) (*client.TokenList, error)
}

// tokensOf returns the calls for the tokens of the user called name: the
// caller's own routes when name is the caller (so that a user without the
// admin role manages their own tokens over --server), else the admin's
// routes for that user.
func tokensOf(ctx context.Context, c *client.Client, name string) (*tokenOwner, error) {
	me, err := c.Me(ctx)
	if err != nil {
		return nil, err
	}
	if me.ID != 0 && strings.EqualFold(me.Username, name) {
		return &tokenOwner{create: c.CreateToken, list: c.ListTokens}, nil
	}
	u, err := c.UserByName(ctx, name)
	if err != nil {
		return nil, err
	}
	return &tokenOwner{
		create: func(ctx context.Context, in client.NewToken) (*client.CreatedToken, error) {
			return c.CreateUserToken(ctx, u.ID, in)
		},
		list: func(ctx context.Context) (*client.TokenList, error) { return c.ListUserTokens(ctx, u.ID) },
	}, nil
}

// parseExpires reads --expires; "0" means no expiry.
func parseExpires(s string) (time.Duration, error) {
	d, err := parseDays(s)
	if err != nil {
		return 0, fmt.Errorf("--expires: %w", err)
	}
	return d, nil
}

// optionalTime formats t to the minute, or none when t is nil.
func optionalTime(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func (a *app) tokenListCommand() *cobra.Command {
	var user string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --user NAME [--json]",
		Short: "List a user's API tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				o, err := tokensOf(ctx, c, user)
				if err != nil {
					return err
				}
				list, err := o.list(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(a.env.Stdout, newTokenListView(list.Items))
				}
				writeTokenList(a.env.Stdout, list.Items)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "owner of the tokens (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.MarkFlagRequired("user")
	return cmd
}

type tokenListView struct {
	Tokens []tokenView `json:"tokens"`
}

// tokenView is a token as shown: never the secret or its hash.
type tokenView struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func newTokenListView(list []client.Token) tokenListView {
	v := tokenListView{Tokens: make([]tokenView, 0, len(list))}
	for _, t := range list {
		v.Tokens = append(v.Tokens, tokenView{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt,
			ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt})
	}
	return v
}

func writeTokenList(w io.Writer, list []client.Token) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no tokens")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tCREATED\tEXPIRES\tLAST USED")
	for _, t := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s...\t%s\t%s\t%s\n", t.ID, t.Name, t.Prefix, optionalTime(&t.CreatedAt, ""),
			optionalTime(t.ExpiresAt, "never"), optionalTime(t.LastUsedAt, "never"))
	}
	tw.Flush()
}

func (a *app) tokenRevokeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Delete an API token so it no longer works",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("token ID %q is not a positive number", args[0])
			}
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.DeleteToken(ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(a.env.Stdout, "token %d revoked\n", id)
				return nil
			})
		},
	}
}

// tokenMaxLifetimeCommand shows the maximum API token lifetime, or sets it
// (admin): a Go duration, or "none".
func (a *app) tokenMaxLifetimeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "max-lifetime [DURATION|none]",
		Short: "Show or set (admin) the longest an API token may live, counted from its creation",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAPI(cmd, func(ctx context.Context, c *client.Client) error {
				var p *client.TokenPolicy
				var err error
				if len(args) == 0 {
					p, err = c.TokenPolicy(ctx)
				} else {
					in := client.TokenPolicy{MaxLifetime: args[0]}
					if args[0] == "none" {
						in.MaxLifetime = ""
					}
					p, err = c.SetTokenPolicy(ctx, in)
				}
				if err != nil {
					return err
				}
				if p.MaxLifetime == "" {
					fmt.Fprintln(a.env.Stdout, "API tokens have no maximum lifetime")
				} else {
					fmt.Fprintf(a.env.Stdout, "API tokens live at most %s\n", p.MaxLifetime)
				}
				return nil
			})
		},
	}
}
